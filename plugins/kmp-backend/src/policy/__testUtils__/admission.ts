/*
 * Helpers for tests against a real API server running the rendered
 * policies: dry-run admission, reading decisions back, waiting for policies
 * to become active.
 */
import { PolicyEvaluationResult } from '@kmp/plugin-kmp-common';
import {
  collectionPath,
  KubeClient,
  KubeResponse,
} from '../cluster/KubeClient';
import { knownKind, splitApiVersion } from '../kinds';
import { policyObjectName } from '../render/renderPolicies';

export interface ClusterDecision {
  admitted: boolean;
  /** Rule id of the denying policy (the API server reports the first). */
  deniedBy?: string;
  /** The denial message, after `denied request: `. */
  message?: string;
  /** Admission warnings of KMP policies: rule id and text. */
  warnings: Array<{ ruleId: string; text: string }>;
  /** A refusal that did not come from a KMP policy (a test bug). */
  unexpected?: string;
}

const DENIAL =
  /ValidatingAdmissionPolicy 'kmp-([a-z0-9-]+)' with binding '[^']+' denied request: (.*)$/s;
const WARNING =
  /^Validation failed for ValidatingAdmissionPolicy 'kmp-([a-z0-9-]+)' with binding '[^']+': /;

export function decisionOf(res: KubeResponse): ClusterDecision {
  const warnings = res.warnings
    .map(text => ({ match: WARNING.exec(text), text }))
    .filter(w => w.match)
    .map(w => ({ ruleId: w.match![1], text: w.text }));
  if (res.status >= 200 && res.status < 300) {
    return { admitted: true, warnings };
  }
  let message = res.body;
  try {
    message = JSON.parse(res.body).message ?? res.body;
  } catch {
    // not JSON
  }
  const denial = DENIAL.exec(message);
  if ((res.status === 422 || res.status === 403) && denial) {
    return {
      admitted: false,
      deniedBy: denial[1],
      message: denial[2],
      warnings,
    };
  }
  return {
    admitted: false,
    warnings,
    unexpected: `${res.status}: ${message.slice(0, 500)}`,
  };
}

/** Path of the collection an object is created in. */
export function createPath(object: any): string {
  const { group, version } = splitApiVersion(object.apiVersion);
  const kind = knownKind(group, object.kind);
  if (!kind)
    throw new Error(`unknown kind ${object.apiVersion} ${object.kind}`);
  return collectionPath(
    group,
    version,
    kind.resource,
    kind.namespaced ? object.metadata.namespace : undefined,
  );
}

/** Server-side dry-run creation: admission runs, nothing is stored. */
export async function dryRunCreate(client: KubeClient, object: any) {
  return decisionOf(
    await client.request('POST', `${createPath(object)}?dryRun=All`, object),
  );
}

/** The warning text the API server reports for an in-process violation. */
export function expectedWarning(ruleId: string, message: string): string {
  const name = policyObjectName(ruleId);
  return `Validation failed for ValidatingAdmissionPolicy '${name}' with binding '${name}': [${ruleId}] ${message}`;
}

/**
 * Differences between the violations the API server warned about and the
 * in-process ones. Warnings past 4096 characters are truncated by the API
 * server to 256 characters each, so a truncated warning matches the start
 * of the expected text. Violations that could not be evaluated match by
 * rule only (the error texts of the two CEL implementations differ).
 */
export function warningDifferences(
  decision: ClusterDecision,
  result: PolicyEvaluationResult,
): string[] {
  const server = [...decision.warnings];
  const missing: string[] = [];
  for (const v of result.violations) {
    const expected = expectedWarning(v.ruleId, v.message);
    const index = server.findIndex(w =>
      v.error
        ? w.ruleId === v.ruleId && !w.text.includes(`: [${v.ruleId}] `)
        : w.text === expected ||
          ([...w.text].length === 256 && expected.startsWith(w.text)),
    );
    if (index < 0) {
      missing.push(
        `in-process only: ${
          v.error ? `[${v.ruleId}] (error) ` : ''
        }${expected}`,
      );
    } else {
      server.splice(index, 1);
    }
  }
  return [...missing, ...server.map(w => `cluster only: ${w.text}`)];
}

/** Polls until fn returns true. */
export async function eventually(
  what: string,
  fn: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await fn()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${
          last ? `: ${(last as Error).message}` : ''
        }`,
      );
    }
    await new Promise(r => setTimeout(r, 250));
  }
}

/** Runs fn over items with at most `limit` in flight, keeping order. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}
