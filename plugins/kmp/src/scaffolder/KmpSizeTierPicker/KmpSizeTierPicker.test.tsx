import { configApiRef } from '@backstage/core-plugin-api';
import {
  MockConfigApi,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { fireEvent, screen, within } from '@testing-library/react';
import { useState } from 'react';
import { KmpSizeTierPicker } from './KmpSizeTierPicker';

jest.setTimeout(60_000);

const config = new MockConfigApi({
  kmp: {
    goldenPaths: {
      defaultSizeTier: 'small',
      sizeTiers: {
        small: {
          title: 'Small',
          description: 'A service or two.',
          quota: { 'requests.cpu': '2', 'limits.memory': '8Gi', pods: '20' },
          limits: {
            defaultRequest: { cpu: '100m', memory: '128Mi' },
            default: { cpu: '500m', memory: '256Mi' },
            max: { cpu: '2', memory: '2Gi' },
          },
        },
        medium: {
          title: 'Medium',
          quota: {
            'requests.cpu': '8',
            pods: '60',
            'count/jobs.batch': '10',
          },
          limits: { default: { cpu: '1', memory: '1Gi' } },
        },
      },
    },
  },
});

function Harness(props: { onChange: (v: string) => void }) {
  const [value, setValue] = useState<string | undefined>();
  return (
    <KmpSizeTierPicker
      {...({} as any)}
      formData={value}
      onChange={(v: string) => {
        setValue(v);
        props.onChange(v);
      }}
      schema={{ title: 'Size tier' }}
      uiSchema={{}}
      idSchema={{ $id: 'root_sizeTier' }}
      rawErrors={[]}
    />
  );
}

describe('KmpSizeTierPicker', () => {
  it('starts on the default tier and shows the quota it implies', async () => {
    const onChange = jest.fn();
    await renderInTestApp(
      <TestApiProvider apis={[[configApiRef, config]]}>
        <Harness onChange={onChange} />
      </TestApiProvider>,
    );
    expect(onChange).toHaveBeenCalledWith('small');
    const table = await screen.findByRole('table', {
      name: 'Quota of the small tier',
    });
    const rows = within(table)
      .getAllByRole('row')
      .map(r => r.textContent);
    expect(rows).toEqual([
      'CPU requests2',
      'Memory limits8Gi',
      'Pods20',
      'Container defaultrequests 100m CPU / 128Mi, limits 500m CPU / 256Mi',
      'Container maximum2 CPU / 2Gi',
    ]);
    expect(screen.getByText('A service or two.')).toBeInTheDocument();
  });

  it('shows another tier’s quota when it is picked, including unknown keys', async () => {
    const onChange = jest.fn();
    await renderInTestApp(
      <TestApiProvider apis={[[configApiRef, config]]}>
        <Harness onChange={onChange} />
      </TestApiProvider>,
    );
    fireEvent.mouseDown(await screen.findByLabelText('Size tier'));
    fireEvent.click(
      within(await screen.findByRole('listbox')).getByText('Medium'),
    );
    expect(onChange).toHaveBeenLastCalledWith('medium');
    const table = await screen.findByRole('table', {
      name: 'Quota of the medium tier',
    });
    expect(
      within(table)
        .getAllByRole('row')
        .map(r => r.textContent),
    ).toEqual([
      'CPU requests8',
      'Pods60',
      'count/jobs.batch10',
      'Container defaultlimits 1 CPU / 1Gi',
    ]);
  });

  it('says so when the platform configured no tiers', async () => {
    await renderInTestApp(
      <TestApiProvider apis={[[configApiRef, new MockConfigApi({})]]}>
        <Harness onChange={jest.fn()} />
      </TestApiProvider>,
    );
    expect(
      await screen.findByText(
        'No size tiers are configured (kmp.goldenPaths.sizeTiers).',
      ),
    ).toBeInTheDocument();
  });
});
