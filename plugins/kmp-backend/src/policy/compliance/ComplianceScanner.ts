import {
  EffectivePolicyBundle,
  PolicyComplianceReport,
  PolicyFinding,
  PolicySeverity,
} from '@kmp/plugin-kmp-common';
import { collectionPath, KubeClient } from '../cluster/KubeClient';
import { SCANNED_KINDS } from '../kinds';
import { PolicyEvaluator } from '../PolicyEvaluator';
import { ComplianceSnapshot } from '../PolicyStore';
import { ruleIdOfPolicyName, RULE_LABEL } from '../render/renderPolicies';

/** Findings kept per scan; counts per rule are always complete. */
export const MAX_FINDINGS = 500;

const SCANNED = new Set(SCANNED_KINDS.map(k => k.kind));

/** Objects whose controller is itself scanned are judged through it. */
function ownedByScannedController(object: any): boolean {
  return (object.metadata?.ownerReferences ?? []).some(
    (ref: any) => ref.controller && SCANNED.has(ref.kind),
  );
}

type Json = Record<string, any>;

const SEVERITIES: PolicySeverity[] = ['low', 'medium', 'high', 'critical'];
const asSeverity = (v: unknown) =>
  SEVERITIES.includes(v as PolicySeverity) ? (v as PolicySeverity) : undefined;

/**
 * Compliance of one cluster with its governed bundle, from two angles:
 * KMP's own scan of the live workloads with the in-process evaluator (the
 * same decision the cluster's admission makes, applied to what already
 * runs), and what the cluster's policy engines report — Gatekeeper
 * constraint audit status and Kyverno PolicyReports, where those APIs
 * exist. ValidatingAdmissionPolicy audit annotations go to the API
 * server's audit log, which is not readable through the API; KMP's scan
 * covers the same rules.
 */
export class ComplianceScanner {
  private constructor(private readonly maxObjectsPerKind: number) {}

  static create(options: { maxObjectsPerKind?: number } = {}) {
    return new ComplianceScanner(options.maxObjectsPerKind ?? 20_000);
  }

  async scan(
    cluster: string,
    bundle: EffectivePolicyBundle,
    client: KubeClient,
  ): Promise<ComplianceSnapshot> {
    const scannedAt = new Date().toISOString();
    const findings: PolicyFinding[] = [];
    const engines: string[] = [];
    let objectsScanned = 0;
    let truncated = false;
    try {
      const namespaces = await client.list<Json>('/api/v1/namespaces', {
        maxItems: 10_000,
      });
      const labels = Object.fromEntries(
        namespaces.items.map(ns => [
          ns.metadata.name,
          ns.metadata.labels ?? {},
        ]),
      );
      const evaluator = PolicyEvaluator.create(bundle);
      for (const kind of SCANNED_KINDS) {
        const list = await client.list<Json>(
          collectionPath(kind.group, kind.version, kind.resource),
          { maxItems: this.maxObjectsPerKind },
        );
        truncated ||= list.truncated;
        const objects = list.items
          .filter(o => !ownedByScannedController(o))
          .map(o => ({
            object: {
              ...o,
              apiVersion: kind.group
                ? `${kind.group}/${kind.version}`
                : kind.version,
              kind: kind.kind,
            },
          }));
        objectsScanned += objects.length;
        for (const result of evaluator.evaluate(objects, {
          namespaces: labels,
        })) {
          for (const v of result.violations) {
            findings.push({
              source: 'kmp-scan',
              ruleId: v.ruleId,
              governed: true,
              severity: v.severity,
              object: v.object,
              message: v.message,
            });
          }
        }
      }
      if (await this.readGatekeeper(client, findings))
        engines.push('gatekeeper');
      if (await this.readKyverno(client, findings)) engines.push('kyverno');
    } catch (error) {
      return {
        cluster,
        bundleVersion: bundle.version,
        status: 'failed',
        scannedAt,
        objectsScanned,
        error: (error as Error).message.slice(0, 1000),
        engines,
        rules: [],
        findings: [],
        truncated: false,
      };
    }
    return {
      cluster,
      bundleVersion: bundle.version,
      status: 'ok',
      scannedAt,
      objectsScanned,
      engines,
      rules: summarise(bundle, findings),
      findings: findings.slice(0, MAX_FINDINGS),
      truncated: truncated || findings.length > MAX_FINDINGS,
    };
  }

  /** Violations in the audit status of every Gatekeeper constraint. */
  private async readGatekeeper(client: KubeClient, findings: PolicyFinding[]) {
    const resources = await client.resources(
      'constraints.gatekeeper.sh/v1beta1',
    );
    if (!resources) return false;
    for (const resource of resources) {
      const { items } = await client.list<Json>(
        collectionPath('constraints.gatekeeper.sh', 'v1beta1', resource.name),
        { maxItems: 1000 },
      );
      for (const constraint of items) {
        const kmpRule = constraint.metadata?.labels?.[RULE_LABEL];
        for (const v of constraint.status?.violations ?? []) {
          findings.push({
            source: 'gatekeeper',
            ruleId: kmpRule ?? `${resource.kind}/${constraint.metadata.name}`,
            governed: !!kmpRule,
            severity: asSeverity(
              constraint.metadata?.annotations?.[
                'kmp.backstage.io/policy-severity'
              ],
            ),
            object: {
              apiVersion: v.group ? `${v.group}/${v.version}` : v.version,
              kind: v.kind,
              ...(v.namespace ? { namespace: v.namespace } : {}),
              name: v.name,
            },
            message: String(v.message ?? ''),
          });
        }
      }
    }
    return true;
  }

  /** Failed results of Kyverno (wgpolicyk8s.io) policy reports. */
  private async readKyverno(client: KubeClient, findings: PolicyFinding[]) {
    const resources = await client.resources('wgpolicyk8s.io/v1alpha2');
    if (!resources) return false;
    for (const plural of ['policyreports', 'clusterpolicyreports']) {
      if (!resources.some(r => r.name === plural)) continue;
      const { items } = await client.list<Json>(
        collectionPath('wgpolicyk8s.io', 'v1alpha2', plural),
        { maxItems: 5000 },
      );
      for (const report of items) {
        for (const result of report.results ?? []) {
          if (!['fail', 'error', 'warn'].includes(result.result)) continue;
          const kmpRule = ruleIdOfPolicyName(String(result.policy ?? ''));
          let subjects: Json[] = [report.scope ?? {}];
          if (result.resources?.length) subjects = result.resources;
          for (const subject of subjects) {
            findings.push({
              source: 'kyverno',
              ruleId: kmpRule ?? `${result.policy}/${result.rule}`,
              governed: !!kmpRule,
              severity: asSeverity(result.severity),
              object: {
                apiVersion: subject.apiVersion,
                kind: subject.kind,
                ...(subject.namespace ? { namespace: subject.namespace } : {}),
                name: subject.name,
              },
              message: String(result.message ?? ''),
            });
          }
        }
      }
    }
    return true;
  }
}

function summarise(
  bundle: EffectivePolicyBundle,
  findings: PolicyFinding[],
): PolicyComplianceReport['rules'] {
  const rules = new Map<string, PolicyComplianceReport['rules'][number]>();
  for (const rule of bundle.rules) {
    rules.set(rule.id, {
      ruleId: rule.id,
      governed: true,
      severity: rule.severity,
      enforcement: rule.enforcement,
      violations: 0,
      bySource: {},
    });
  }
  for (const finding of findings) {
    let entry = rules.get(finding.ruleId);
    if (!entry) {
      entry = {
        ruleId: finding.ruleId,
        governed: finding.governed,
        ...(finding.severity ? { severity: finding.severity } : {}),
        violations: 0,
        bySource: {},
      };
      rules.set(finding.ruleId, entry);
    }
    entry.violations++;
    entry.bySource[finding.source] = (entry.bySource[finding.source] ?? 0) + 1;
  }
  return [...rules.values()];
}
