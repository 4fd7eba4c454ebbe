import { KmpAlert } from './AlertStore';

/** A label value in the Prometheus text format: `\`, `"` and newlines escaped. */
function escapeLabel(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n');
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function labels(values: Record<string, string>): string {
  const pairs = Object.entries(values)
    .filter(([name]) => LABEL_NAME.test(name) && !name.startsWith('__'))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  return `{${pairs.join(',')}}`;
}

const RECEIVER_STATES = ['idle', 'healthy', 'retrying', 'failing'];

/**
 * The alerts as Prometheus metrics (text exposition format 0.0.4), for a
 * monitoring system that scrapes rather than receives: one `kmp_alert`
 * series per firing alert (value 1, with the alert's labels, like
 * Prometheus's own ALERTS series), firing counts per severity, the time of
 * the last evaluation, and the delivery state of each receiver.
 */
export function prometheusMetrics(options: {
  firing: KmpAlert[];
  evaluation?: { evaluatedAt: string };
  receivers: Array<{
    name: string;
    type: string;
    state: string;
    pending: number;
    delivered: number;
  }>;
}): string {
  const lines: string[] = [];
  lines.push(
    '# HELP kmp_alert A firing structural alert raised by KMP (value 1).',
    '# TYPE kmp_alert gauge',
  );
  for (const alert of options.firing) {
    lines.push(
      `kmp_alert${labels({
        ...alert.labels,
        alertname: alert.alertname,
        cluster: alert.cluster,
        severity: alert.severity,
        alertstate: 'firing',
        fingerprint: alert.fingerprint,
      })} 1`,
    );
  }
  lines.push(
    '# HELP kmp_alerts_firing Firing KMP alerts by severity.',
    '# TYPE kmp_alerts_firing gauge',
  );
  for (const severity of ['critical', 'high']) {
    lines.push(
      `kmp_alerts_firing${labels({ severity })} ${
        options.firing.filter(a => a.severity === severity).length
      }`,
    );
  }
  if (options.evaluation) {
    lines.push(
      '# HELP kmp_alerts_last_evaluation_timestamp_seconds When KMP last evaluated its alert rules.',
      '# TYPE kmp_alerts_last_evaluation_timestamp_seconds gauge',
      `kmp_alerts_last_evaluation_timestamp_seconds ${
        Date.parse(options.evaluation.evaluatedAt) / 1000
      }`,
    );
  }
  lines.push(
    '# HELP kmp_alert_receiver_pending Alert transitions waiting for delivery to a receiver.',
    '# TYPE kmp_alert_receiver_pending gauge',
    ...options.receivers.map(
      r =>
        `kmp_alert_receiver_pending${labels({
          receiver: r.name,
          type: r.type,
        })} ${r.pending}`,
    ),
    '# HELP kmp_alert_receiver_delivered_total Alert transitions delivered to a receiver.',
    '# TYPE kmp_alert_receiver_delivered_total counter',
    ...options.receivers.map(
      r =>
        `kmp_alert_receiver_delivered_total${labels({
          receiver: r.name,
          type: r.type,
        })} ${r.delivered}`,
    ),
    '# HELP kmp_alert_receiver_state Delivery state of a receiver (1 for the current state).',
    '# TYPE kmp_alert_receiver_state gauge',
    ...options.receivers.flatMap(r =>
      RECEIVER_STATES.map(
        state =>
          `kmp_alert_receiver_state${labels({ receiver: r.name, state })} ${
            r.state === state ? 1 : 0
          }`,
      ),
    ),
  );
  return `${lines.join('\n')}\n`;
}
