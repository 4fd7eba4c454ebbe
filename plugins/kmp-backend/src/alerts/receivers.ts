import { ConfigReader } from '@backstage/config';
import { InputError } from '@backstage/errors';
import {
  KmpAuditDeliveryError,
  KmpAuditDeliveryOptions,
} from '@kmp/plugin-kmp-node';
import http from 'node:http';
import https from 'node:https';
import { classifyStatus, postBody, safeUrl } from '../audit/sinks/httpSink';
import { ClusterUrlPolicy } from '../registry/ClusterUrlPolicy';
import { AlertEvent, AlertSeverity } from './AlertStore';
import { AlertReceiverConfig, AlertReceiverType, AlertsConfig } from './config';

/** Alertmanager's "zero" time, sent as `endsAt` of firing alerts. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

const PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue';

/** Where links in the payloads point. */
export interface AlertLinks {
  /** The portal (app.baseUrl). */
  externalUrl: string;
  /** The URL of a cluster's alerts in the API. */
  clusterAlertsUrl(cluster: string): string;
}

function commonEntries(maps: Array<Record<string, string>>) {
  if (maps.length === 0) return {};
  return Object.fromEntries(
    Object.entries(maps[0]).filter(([key, value]) =>
      maps.every(m => m[key] === value),
    ),
  );
}

/**
 * An Alertmanager webhook (version 4) notification carrying a batch of
 * transitions, in outbox order, as Alertmanager itself would send them to a
 * webhook receiver: any receiver that takes Alertmanager's webhooks takes
 * KMP's.
 */
export function toAlertmanagerWebhook(
  events: AlertEvent[],
  options: { receiver: string; links: AlertLinks },
) {
  const alerts = events.map(event => ({
    status: event.status,
    labels: event.alert.labels,
    annotations: {
      summary: event.alert.summary,
      description: event.alert.description,
    },
    startsAt: event.alert.startsAt,
    endsAt:
      event.status === 'resolved' && event.alert.endsAt
        ? event.alert.endsAt
        : ZERO_TIME,
    generatorURL: options.links.clusterAlertsUrl(event.alert.cluster),
    fingerprint: event.alert.fingerprint,
  }));
  const commonLabels = commonEntries(alerts.map(a => a.labels));
  const groupLabels = Object.fromEntries(
    Object.entries(commonLabels).filter(([key]) =>
      ['alertname', 'cluster'].includes(key),
    ),
  );
  return {
    version: '4',
    groupKey: `{}:{${Object.entries(groupLabels)
      .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
      .join(', ')}}`,
    truncatedAlerts: 0,
    status: alerts.some(a => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: options.receiver,
    groupLabels,
    commonLabels,
    commonAnnotations: commonEntries(alerts.map(a => a.annotations)),
    externalURL: options.links.externalUrl,
    alerts,
  };
}

const PAGERDUTY_SEVERITY: Record<AlertSeverity, string> = {
  critical: 'critical',
  high: 'error',
};

/**
 * A PagerDuty Events API v2 event: trigger or resolve, deduplicated by the
 * alert's fingerprint, so a re-delivered event changes nothing.
 */
export function toPagerDutyEvent(
  event: AlertEvent,
  options: { routingKey: string; links: AlertLinks },
) {
  const { alert } = event;
  return {
    routing_key: options.routingKey,
    event_action: event.status === 'firing' ? 'trigger' : 'resolve',
    dedup_key: alert.fingerprint,
    ...(event.status === 'firing'
      ? {
          payload: {
            summary: alert.summary.slice(0, 1024),
            source: alert.cluster,
            severity: PAGERDUTY_SEVERITY[alert.severity],
            timestamp: alert.startsAt,
            component: alert.cluster,
            group: alert.labels.environment_group,
            class: alert.alertname,
            custom_details: {
              description: alert.description,
              labels: alert.labels,
            },
          },
          links: [
            {
              href: options.links.clusterAlertsUrl(alert.cluster),
              text: `KMP alerts of ${alert.cluster}`,
            },
          ],
        }
      : {}),
  };
}

/** A CloudEvents 1.0 event (structured mode) carrying one transition. */
export function toAlertCloudEvent(event: AlertEvent) {
  return {
    specversion: '1.0',
    id: `${event.alert.fingerprint}-${event.seq}`,
    source: '/kmp/alerts',
    type: `io.kmp.alert.${event.status}.v1`,
    subject: `clusters/${event.alert.cluster}`,
    time: event.createdAt,
    datacontenttype: 'application/json',
    data: event.alert,
  };
}

/** Delivers a batch of transitions to one receiver, or throws. */
export interface AlertReceiver {
  name: string;
  type: AlertReceiverType;
  deliver(
    events: AlertEvent[],
    options?: KmpAuditDeliveryOptions,
  ): Promise<void>;
  close(): Promise<void>;
}

/**
 * The SSRF rule of alert receivers: the registry's URL policy (https, and
 * only publicly routable addresses, checked again at every connection),
 * with its own allow-list, `kmp.alerts.allowedReceiverHosts`, and
 * `kmp.alerts.allowInsecureHttp` for plain http to allow-listed hosts.
 */
export class ReceiverUrlPolicy {
  private constructor(private readonly policy: ClusterUrlPolicy) {}

  static fromConfig(
    config: Pick<AlertsConfig, 'allowedReceiverHosts' | 'allowInsecureHttp'>,
  ) {
    let policy: ClusterUrlPolicy;
    try {
      policy = ClusterUrlPolicy.fromConfig(
        new ConfigReader({
          kmp: {
            registry: {
              allowedClusterHosts: config.allowedReceiverHosts,
              allowInsecureHttp: config.allowInsecureHttp,
            },
          },
        }),
      );
    } catch (error) {
      throw new InputError(
        ReceiverUrlPolicy.rename(String((error as Error).message)),
      );
    }
    return new ReceiverUrlPolicy(policy);
  }

  private static rename(message: string) {
    return message
      .replace(
        /kmp\.registry\.allowedClusterHosts/g,
        'kmp.alerts.allowedReceiverHosts',
      )
      .replace(
        /kmp\.registry\.allowInsecureHttp/g,
        'kmp.alerts.allowInsecureHttp',
      )
      .replace(/the cluster URL policy/g, 'the alert receiver URL policy');
  }

  /** Checks a receiver URL; throws an InputError naming `field`. */
  async check(url: string, field: string): Promise<URL> {
    try {
      return new URL(await this.policy.check(url, field));
    } catch (error) {
      if (error instanceof InputError) {
        throw new InputError(ReceiverUrlPolicy.rename(error.message));
      }
      throw error;
    }
  }

  get lookup() {
    return this.policy.lookup;
  }
}

/**
 * Creates the receiver of one `kmp.alerts.receivers[]` entry after checking
 * its URL. Header values and the PagerDuty routing key are secrets: they go
 * into requests only, never into logs or errors (errors name the URL
 * without user info or query).
 */
export async function createAlertReceiver(
  receiver: AlertReceiverConfig,
  options: { index: number; policy: ReceiverUrlPolicy; links: AlertLinks },
): Promise<AlertReceiver> {
  const field = `kmp.alerts.receivers[${options.index}].url`;
  const url = await options.policy.check(receiver.url ?? PAGERDUTY_URL, field);
  const agentOptions = { keepAlive: true, lookup: options.policy.lookup };
  const agent =
    url.protocol === 'https:'
      ? new https.Agent(agentOptions)
      : new http.Agent(agentOptions);
  const where = safeUrl(url);
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(receiver.headers ?? {})) {
    headers[key.toLowerCase()] = value;
  }

  const post = async (
    body: string,
    contentType: string,
    signal?: AbortSignal,
  ) => {
    let response;
    try {
      response = await postBody({
        url,
        headers: { ...headers, 'content-type': contentType },
        body,
        timeoutMs: receiver.timeoutMs,
        signal: signal ?? new AbortController().signal,
        agent,
      });
    } catch (error) {
      throw new KmpAuditDeliveryError(
        `POST ${where} failed: ${
          error instanceof Error ? error.message : error
        }`,
        { kind: 'transient', cause: error },
      );
    }
    const verdict = classifyStatus(response.status);
    if (verdict !== 'ok') {
      throw new KmpAuditDeliveryError(
        `POST ${where} answered HTTP ${response.status}`,
        { kind: verdict },
      );
    }
  };

  let deliver: AlertReceiver['deliver'];
  switch (receiver.type) {
    case 'alertmanager-webhook':
      deliver = (events, deliveryOptions) =>
        post(
          JSON.stringify(
            toAlertmanagerWebhook(events, {
              receiver: receiver.name,
              links: options.links,
            }),
          ),
          'application/json',
          deliveryOptions?.signal,
        );
      break;
    case 'cloudevents':
      deliver = (events, deliveryOptions) =>
        post(
          JSON.stringify(events.map(toAlertCloudEvent)),
          'application/cloudevents-batch+json; charset=utf-8',
          deliveryOptions?.signal,
        );
      break;
    case 'pagerduty-events-v2':
    default:
      // The Events API takes one event per request; dedup_key makes a
      // batch retried after a partial failure harmless.
      deliver = async (events, deliveryOptions) => {
        for (const event of events) {
          await post(
            JSON.stringify(
              toPagerDutyEvent(event, {
                routingKey: receiver.routingKey!,
                links: options.links,
              }),
            ),
            'application/json',
            deliveryOptions?.signal,
          );
        }
      };
  }
  return {
    name: receiver.name,
    type: receiver.type,
    deliver,
    async close() {
      agent.destroy();
    },
  };
}
