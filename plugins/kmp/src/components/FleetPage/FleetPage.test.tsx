import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import { KmpApi, kmpApiRef } from '../../api';
import { FleetPage } from './FleetPage';

function fakeApi(overrides: Partial<KmpApi>): KmpApi {
  return {
    getHealth: async () => ({ status: 'ok', database: 'ok' }),
    listEnvironmentGroups: async () => ({ items: [] }),
    ...overrides,
  };
}

describe('FleetPage', () => {
  it('shows the environment groups and a healthy control plane', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [
            kmpApiRef,
            fakeApi({
              listEnvironmentGroups: async () => ({
                items: [
                  {
                    name: 'payments-prod',
                    title: 'Payments production',
                    environment: 'production',
                    owner: 'group:default/platform-team',
                  },
                ],
              }),
            }),
          ],
        ]}
      >
        <FleetPage />
      </TestApiProvider>,
    );
    expect(await screen.findByText('payments-prod')).toBeInTheDocument();
    expect(screen.getByText('Payments production')).toBeInTheDocument();
    expect(
      await screen.findByText('KMP backend and database are healthy'),
    ).toBeInTheDocument();
  });

  it('shows an empty state that says how to add groups', async () => {
    await renderInTestApp(
      <TestApiProvider apis={[[kmpApiRef, fakeApi({})]]}>
        <FleetPage />
      </TestApiProvider>,
    );
    expect(
      await screen.findByText('No environment groups yet'),
    ).toBeInTheDocument();
  });

  it('shows errors as states, not crashes', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [
            kmpApiRef,
            fakeApi({
              getHealth: async () => ({
                status: 'unavailable',
                database: 'unavailable',
              }),
              listEnvironmentGroups: async () => {
                throw new Error(
                  'permission denied: kmp.environment-group.read',
                );
              },
            }),
          ],
        ]}
      >
        <FleetPage />
      </TestApiProvider>,
    );
    expect(
      await screen.findAllByText(
        /permission denied: kmp.environment-group.read/,
      ),
    ).not.toHaveLength(0);
    expect(
      await screen.findByText('KMP database unavailable'),
    ).toBeInTheDocument();
  });
});
