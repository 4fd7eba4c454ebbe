import { ConfigReader } from '@backstage/config';
import { readAlertsConfig } from './config';

const read = (alerts: object) =>
  readAlertsConfig(new ConfigReader({ kmp: { alerts } }));

describe('readAlertsConfig', () => {
  it('defaults to evaluating every rule, with the "prolonged" waits, and no receivers', () => {
    expect(readAlertsConfig(new ConfigReader({}))).toMatchObject({
      enabled: true,
      intervalSeconds: 60,
      receivers: [],
      rules: {
        clusterUnreachable: { enabled: true, forSeconds: 0 },
        controlPlaneUnhealthy: { enabled: true, forSeconds: 120 },
        nodesNotReady: { enabled: true, forSeconds: 900 },
        policyDrift: { enabled: true, forSeconds: 1800 },
        gitopsReconciliation: { enabled: true, forSeconds: 600 },
        gitopsDrift: { enabled: true, forSeconds: 1800 },
        nodePressure: { enabled: true, forSeconds: 600 },
        nodesUnschedulable: { enabled: true, forSeconds: 3600 },
        nodeNetworkUnavailable: { enabled: true, forSeconds: 300 },
      },
    });
    expect(
      read({ rules: { nodesUnschedulable: { enabled: false } } }).rules
        .nodesUnschedulable,
    ).toEqual({ enabled: false, forSeconds: 3600 });
    expect(
      read({ rules: { nodesNotReady: { enabled: false } } }).rules
        .nodesNotReady,
    ).toEqual({ enabled: false, forSeconds: 900 });
    expect(
      read({ rules: { gitopsDrift: { forSeconds: 3600 } } }).rules.gitopsDrift,
    ).toEqual({ enabled: true, forSeconds: 3600 });
  });

  it('names the key of the first problem, never a header value', () => {
    expect(() => read({ rules: { diskFull: {} } })).toThrow(
      /^Invalid configuration at kmp\.alerts\.rules/,
    );
    expect(() =>
      read({ receivers: [{ name: 'am', type: 'alertmanager-webhook' }] }),
    ).toThrow(
      'Invalid configuration at kmp.alerts.receivers[0].url: is required for type alertmanager-webhook',
    );
    expect(() =>
      read({ receivers: [{ name: 'pd', type: 'pagerduty-events-v2' }] }),
    ).toThrow('kmp.alerts.receivers[0].routingKey: is required');
    const twice = {
      name: 'am',
      type: 'alertmanager-webhook',
      url: 'https://am.example.com/hook',
      headers: { authorization: 'Bearer s3cr3t' },
    };
    expect(() => read({ receivers: [twice, twice] })).toThrow(
      "Invalid configuration at kmp.alerts.receivers[1].name: 'am' is used twice",
    );
    let message = '';
    try {
      read({ receivers: [{ ...twice, type: 'slack' }] });
    } catch (error) {
      message = String(error);
    }
    expect(message).toContain('kmp.alerts.receivers[0].type');
    expect(message).not.toContain('s3cr3t');
  });
});
