import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, within } from '@testing-library/react';
import { useState } from 'react';
import { KmpApi, kmpApiRef } from '../../api';
import {
  KmpClusterPicker,
  KmpClusterPickerUiOptions,
  KmpClusterPickerValue,
  validateKmpClusterPicker,
} from './KmpClusterPicker';

jest.setTimeout(60_000);

const cluster = (name: string, environmentGroup: string, environment: string) =>
  ({
    name,
    environmentGroup,
    environment,
    lifecycleState: 'active',
  } as any);

function fakeApi(overrides: Partial<KmpApi> = {}): KmpApi {
  return {
    listEnvironmentGroups: async () => ({
      items: [
        {
          name: 'payments-prod',
          title: 'Payments production',
          environment: 'production',
          owner: 'group:default/platform-team',
        },
        {
          name: 'payments-nonprod',
          environment: 'non-production',
          owner: 'group:default/platform-team',
        },
      ],
    }),
    listClusters: jest.fn(async () => ({
      items: [
        cluster('payments-dev-eu1', 'payments-nonprod', 'non-production'),
        cluster('payments-prod-eu1', 'payments-prod', 'production'),
      ],
      totalCount: 2,
    })),
    ...overrides,
  } as unknown as KmpApi;
}

/** The field as the scaffolder form holds it: controlled, with state. */
function Harness(props: {
  options?: KmpClusterPickerUiOptions;
  onChange: (value: KmpClusterPickerValue) => void;
}) {
  const [value, setValue] = useState<KmpClusterPickerValue | undefined>();
  return (
    <KmpClusterPicker
      {...({} as any)}
      formData={value}
      onChange={(v: KmpClusterPickerValue) => {
        setValue(v);
        props.onChange(v);
      }}
      schema={{ title: 'Target' }}
      uiSchema={{ 'ui:options': props.options ?? {} }}
      idSchema={{ $id: 'root_target' }}
      rawErrors={[]}
      required
    />
  );
}

async function choose(label: RegExp | string, option: RegExp | string) {
  // The MUI select is a button labelled by its InputLabel.
  fireEvent.mouseDown(await screen.findByRole('button', { name: label }));
  const listbox = await screen.findByRole('listbox');
  fireEvent.click(within(listbox).getByText(option));
}

describe('KmpClusterPicker', () => {
  it('picks a cluster from the registry, naming its group and environment', async () => {
    const onChange = jest.fn();
    await renderInTestApp(
      <TestApiProvider apis={[[kmpApiRef, fakeApi()]]}>
        <Harness options={{ allow: ['cluster'] }} onChange={onChange} />
      </TestApiProvider>,
    );
    // One kind allowed: no radio buttons.
    expect(screen.queryByRole('radio')).not.toBeInTheDocument();
    await choose(/Cluster/, /payments-prod-eu1 — payments-prod \(production/);
    expect(onChange).toHaveBeenLastCalledWith({ cluster: 'payments-prod-eu1' });
    expect(
      screen.getByText('Production clusters are changed through GitOps.'),
    ).toBeInTheDocument();
  });

  it('switches to environment groups and picks one', async () => {
    const onChange = jest.fn();
    await renderInTestApp(
      <TestApiProvider apis={[[kmpApiRef, fakeApi()]]}>
        <Harness onChange={onChange} />
      </TestApiProvider>,
    );
    fireEvent.click(await screen.findByLabelText('Environment group'));
    expect(onChange).toHaveBeenLastCalledWith({});
    await choose(/^Environment group/, 'Payments production (production)');
    expect(onChange).toHaveBeenLastCalledWith({
      environmentGroup: 'payments-prod',
    });
  });

  it('asks the registry only for the environments allowed', async () => {
    const api = fakeApi();
    await renderInTestApp(
      <TestApiProvider apis={[[kmpApiRef, api]]}>
        <Harness
          options={{
            allow: ['environmentGroup'],
            environments: ['non-production'],
          }}
          onChange={jest.fn()}
        />
      </TestApiProvider>,
    );
    fireEvent.mouseDown(
      await screen.findByRole('button', { name: /Environment group/ }),
    );
    const listbox = await screen.findByRole('listbox');
    expect(
      within(listbox)
        .getAllByRole('option')
        .map(o => o.textContent),
    ).toEqual(['payments-nonprod (non-production)']);
    expect(api.listClusters).toHaveBeenCalledWith(
      expect.objectContaining({ environment: ['non-production'] }),
    );
  });

  it('shows why the fleet could not be loaded', async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [
            kmpApiRef,
            fakeApi({
              listClusters: async () => {
                throw new Error('not allowed to kmp.cluster.read');
              },
            }),
          ],
        ]}
      >
        <Harness onChange={jest.fn()} />
      </TestApiProvider>,
    );
    expect(
      await screen.findByText(
        'Could not load the fleet: not allowed to kmp.cluster.read',
      ),
    ).toBeInTheDocument();
  });

  it('validates that exactly one target is picked', () => {
    const errors: string[] = [];
    const validation = { addError: (m: string) => errors.push(m) } as any;
    validateKmpClusterPicker({}, validation, {} as any);
    validateKmpClusterPicker(
      { cluster: 'a', environmentGroup: 'b' },
      validation,
      {} as any,
    );
    validateKmpClusterPicker({ cluster: 'a' }, validation, {} as any);
    expect(errors).toEqual([
      'pick one cluster or one environment group',
      'pick one cluster or one environment group',
    ]);
  });
});
