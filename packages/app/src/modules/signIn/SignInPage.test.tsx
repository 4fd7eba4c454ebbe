import { render, screen } from '@testing-library/react';
import App from '../../App';

describe('sign-in page', () => {
  it('offers the demo IdP (OIDC) and guest sign-in before the app', async () => {
    process.env = {
      NODE_ENV: 'test',
      APP_CONFIG: [
        {
          data: {
            app: { title: 'Test' },
            backend: { baseUrl: 'http://localhost:7007' },
          },
          context: 'test',
        },
      ] as any,
    };

    render(App.createRoot());

    // The app loads its extensions lazily; on a busy machine that takes a while.
    expect(
      await screen.findByText('Sign in to KMP', {}, { timeout: 60_000 }),
    ).toBeInTheDocument();
    expect(screen.getByText('Demo IdP (OIDC)')).toBeInTheDocument();
    expect(
      screen.getByText(/Sign in as a demo persona: alice \(developer\)/),
    ).toBeInTheDocument();
    expect(screen.getByText('Guest')).toBeInTheDocument();
    expect(screen.getAllByRole('button', { name: 'Sign In' })).toHaveLength(1);
    expect(screen.getByRole('button', { name: 'Enter' })).toBeInTheDocument();
  }, 90_000);
});
