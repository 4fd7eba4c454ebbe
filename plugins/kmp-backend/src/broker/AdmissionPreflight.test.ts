import { RegisteredCluster } from '@kmp/plugin-kmp-common';
import {
  combinePreflights,
  PrivilegedContainerPreflight,
} from './AdmissionPreflight';

const cluster = { name: 'dev' } as RegisteredCluster;
const privileged = { securityContext: { privileged: true } };

describe('PrivilegedContainerPreflight', () => {
  const preflight = new PrivilegedContainerPreflight();

  it('refuses privileged containers in pods, with the field', async () => {
    const violations = await preflight.check(
      cluster,
      {
        kind: 'Pod',
        spec: {
          initContainers: [{ name: 'init', ...privileged }],
          containers: [
            { name: 'app' },
            { name: 'debug', securityContext: { privileged: false } },
          ],
          ephemeralContainers: [{ name: 'shell', ...privileged }],
        },
      },
      'create',
    );
    expect(violations).toEqual([
      {
        rule: 'no-privileged-containers',
        field: 'spec.initContainers[0].securityContext.privileged',
        message: "container 'init' must not run privileged",
      },
      {
        rule: 'no-privileged-containers',
        field: 'spec.ephemeralContainers[0].securityContext.privileged',
        message: "container 'shell' must not run privileged",
      },
    ]);
  });

  it.each([
    [
      'Deployment',
      {
        spec: {
          template: { spec: { containers: [{ name: 'a', ...privileged }] } },
        },
      },
      'spec.template.spec.containers[0]',
    ],
    [
      'DaemonSet',
      {
        spec: {
          template: { spec: { containers: [{ name: 'a', ...privileged }] } },
        },
      },
      'spec.template.spec.containers[0]',
    ],
    [
      'Job',
      {
        spec: {
          template: { spec: { containers: [{ name: 'a', ...privileged }] } },
        },
      },
      'spec.template.spec.containers[0]',
    ],
    [
      'CronJob',
      {
        spec: {
          jobTemplate: {
            spec: {
              template: {
                spec: { containers: [{ name: 'a', ...privileged }] },
              },
            },
          },
        },
      },
      'spec.jobTemplate.spec.template.spec.containers[0]',
    ],
    [
      'PodTemplate',
      { template: { spec: { containers: [{ name: 'a', ...privileged }] } } },
      'template.spec.containers[0]',
    ],
  ])('finds the pod template of a %s', async (kind, rest, field) => {
    const [violation] = await preflight.check(
      cluster,
      { kind, ...rest },
      'update',
    );
    expect(violation.field).toBe(`${field}.securityContext.privileged`);
  });

  it('passes other objects and unprivileged workloads', async () => {
    expect(
      await preflight.check(
        cluster,
        { kind: 'ConfigMap', data: { privileged: 'true' } },
        'create',
      ),
    ).toEqual([]);
    expect(
      await preflight.check(
        cluster,
        {
          kind: 'Deployment',
          spec: { template: { spec: { containers: [{ name: 'a' }] } } },
        },
        'create',
      ),
    ).toEqual([]);
    expect(await preflight.check(cluster, 'not an object', 'create')).toEqual(
      [],
    );
    expect(
      await preflight.check(
        cluster,
        { kind: 'Pod', spec: { containers: 'nope' } },
        'create',
      ),
    ).toEqual([]);
  });

  it('combines pre-flights', async () => {
    const both = combinePreflights(preflight, {
      check: async () => [{ rule: 'other', message: 'no' }],
    });
    expect(
      (
        await both.check(
          cluster,
          { kind: 'Pod', spec: { containers: [{ name: 'a', ...privileged }] } },
          'create',
        )
      ).map(v => v.rule),
    ).toEqual(['no-privileged-containers', 'other']);
  });
});
