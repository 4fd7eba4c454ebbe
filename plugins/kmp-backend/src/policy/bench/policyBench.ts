/*
 * yarn bench:policy
 *
 * 1. Throughput: objects evaluated per second by the PolicyEvaluator
 *    against the full production baseline (matching, parameters, lazy
 *    variables and violation messages included), and — the floor, in the
 *    same run — bare @marcbachmann/cel-js evaluating 10 pod-spec rules of
 *    the same kind, parsed once, over the same Deployments. Goal: ≥ 80 %.
 * 2. Latency: p50/p99 of POST /api/kmp/policies/evaluate with 50 manifests,
 *    through the real route of a started test backend (auth, permission
 *    check, OpenAPI and zod validation, evaluation, JSON). Goal: p99 < 10 ms.
 */
/* eslint-disable @backstage/no-undeclared-imports, no-restricted-imports, no-restricted-syntax --
 * A development benchmark, never part of the built plugin: it uses the test
 * utilities, the test corpus and paths relative to the source tree. */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { Environment } from '@marcbachmann/cel-js';
import path from 'node:path';
import request from 'supertest';
import { kmpPlugin } from '../../plugin';
import {
  buildCase,
  CORPUS_NAMESPACES,
  MUTATIONS,
} from '../__testUtils__/policyCorpus';
import { EffectivePolicyBundle } from '@kmp/plugin-kmp-common';
import { PolicyBundleSet } from '../bundle/PolicyBundleSet';
import { PolicyEvaluator } from '../PolicyEvaluator';

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1000);

/** Deployments: a third compliant, the rest with one or two violations. */
function deployments(count: number) {
  const namespaces = Object.keys(CORPUS_NAMESPACES).slice(0, 3);
  const out: any[] = [];
  for (let i = 0; i < count; i++) {
    const mutations =
      i % 3 === 0
        ? []
        : [MUTATIONS[(i * 7) % MUTATIONS.length].name].concat(
            i % 5 === 0 ? [MUTATIONS[(i * 13) % MUTATIONS.length].name] : [],
          );
    out.push(
      buildCase(`app-${i}`, 'Deployment', namespaces[i % 3], [
        ...new Set(mutations),
      ]).object,
    );
  }
  return out;
}

const spec = 'object.spec.template.spec';
const BARE_RULES = [
  `${spec}.containers.all(c, params.registries.exists(p, c.image.startsWith(p)))`,
  `${spec}.containers.all(c, has(c.resources) && has(c.resources.limits) && 'cpu' in c.resources.limits && 'memory' in c.resources.limits && has(c.resources.requests) && 'cpu' in c.resources.requests && 'memory' in c.resources.requests)`,
  `${spec}.containers.all(c, !has(c.securityContext) || !has(c.securityContext.privileged) || !c.securityContext.privileged)`,
  `!(has(${spec}.hostNetwork) && ${spec}.hostNetwork) && !(has(${spec}.hostPID) && ${spec}.hostPID) && !(has(${spec}.hostIPC) && ${spec}.hostIPC)`,
  `!has(${spec}.volumes) || ${spec}.volumes.all(v, !has(v.hostPath))`,
  `${spec}.containers.all(c, has(c.securityContext) && has(c.securityContext.runAsNonRoot) ? c.securityContext.runAsNonRoot : has(${spec}.securityContext) && has(${spec}.securityContext.runAsNonRoot) && ${spec}.securityContext.runAsNonRoot)`,
  `${spec}.containers.all(c, has(c.securityContext) && has(c.securityContext.capabilities) && has(c.securityContext.capabilities.drop) && 'ALL' in c.securityContext.capabilities.drop)`,
  `${spec}.containers.all(c, has(c.securityContext) && has(c.securityContext.allowPrivilegeEscalation) && !c.securityContext.allowPrivilegeEscalation)`,
  `${spec}.containers.all(c, has(c.securityContext) && has(c.securityContext.seccompProfile) ? c.securityContext.seccompProfile.type in params.profiles : has(${spec}.securityContext) && has(${spec}.securityContext.seccompProfile) && ${spec}.securityContext.seccompProfile.type in params.profiles)`,
  `params.labels.all(l, has(object.metadata.labels) && l in object.metadata.labels)`,
];

function best(label: string, run: () => number): number {
  let bestRate = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    const n = run();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    bestRate = Math.max(bestRate, n / seconds);
  }
  process.stderr.write(`  ${label}: best of ${ROUNDS} rounds\n`);
  return bestRate;
}

function bareThroughput(objects: any[]): number {
  const env = new Environment({ unlistedVariablesAreDyn: true });
  const programs = BARE_RULES.map(rule => env.parse(rule));
  const params = {
    registries: [
      'registry.kmp.example.com/',
      'registry.k8s.io/',
      'ghcr.io/kmp-platform/',
    ],
    profiles: ['RuntimeDefault', 'Localhost'],
    labels: ['kmp.backstage.io/team'],
  };
  let sink = 0;
  const rate = best('bare cel-js', () => {
    for (const object of objects) {
      const ctx = { object, params };
      for (const program of programs) {
        try {
          if (program(ctx) === true) sink++;
        } catch {
          sink--;
        }
      }
    }
    return objects.length;
  });
  if (sink === 42) process.stderr.write('.');
  return rate;
}

/**
 * The second floor: bare cel-js evaluating this bundle's own expressions
 * (variables computed eagerly into a plain object, then every validation),
 * without KMP's matching, lazy variables, messages or results.
 */
function bareBundleThroughput(bundle: EffectivePolicyBundle, objects: any[]) {
  const env = new Environment({ unlistedVariablesAreDyn: true });
  const compile = (e: string) => env.parse(e);
  const shared = bundle.variables.map(
    v => [v.name, compile(v.expression)] as const,
  );
  const rules = bundle.rules.map(rule => ({
    params: Object.fromEntries(
      Object.entries(rule.params).map(([k, v]) => [
        k,
        typeof v === 'number' ? BigInt(v) : v,
      ]),
    ),
    variables: rule.variables.map(
      v => [v.name, compile(v.expression)] as const,
    ),
    validations: rule.validations.map(v => compile(v.expression)),
  }));
  const namespaceObject = {
    metadata: {
      name: 'team-payments',
      labels: CORPUS_NAMESPACES['team-payments'],
    },
  };
  let sink = 0;
  return best('bare cel-js, bundle expressions', () => {
    for (const object of objects) {
      const variables: Record<string, unknown> = {};
      const ctx: Record<string, unknown> = {
        object,
        oldObject: null,
        request: {},
        namespaceObject,
        params: {},
        variables,
      };
      for (const [name, program] of shared) {
        try {
          variables[name] = program(ctx);
        } catch {
          sink--;
        }
      }
      for (const rule of rules) {
        ctx.params = rule.params;
        for (const [name, program] of rule.variables) {
          try {
            variables[name] = program(ctx);
          } catch {
            sink--;
          }
        }
        for (const program of rule.validations) {
          try {
            if (program(ctx) === true) sink++;
          } catch {
            sink--;
          }
        }
      }
    }
    return objects.length;
  });
}

function evaluatorThroughput(evaluator: PolicyEvaluator, objects: any[]) {
  const items = objects.map(object => ({ object }));
  let violations = 0;
  const rate = best('PolicyEvaluator', () => {
    for (let i = 0; i < items.length; i += 1000) {
      for (const result of evaluator.evaluate(items.slice(i, i + 1000), {
        namespaces: CORPUS_NAMESPACES,
      })) {
        violations += result.violations.length;
      }
    }
    return items.length;
  });
  return { rate, violationsPerRound: violations / ROUNDS };
}

async function routeLatency(manifests: any[]) {
  const backend = await startTestBackend({
    features: [
      kmpPlugin,
      mockServices.rootConfig.factory({
        data: {
          kmp: {
            environmentGroups: [
              {
                name: 'payments-prod',
                environment: 'production',
                owner: 'group:default/platform-team',
              },
            ],
            policy: { compliance: { enabled: false } },
          },
        },
      }),
      mockServices.permissions.factory(),
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
    ],
  });
  const body = {
    target: { environment: 'production', environmentGroup: 'payments-prod' },
    manifests,
    namespaces: CORPUS_NAMESPACES,
  };
  const bytes = Buffer.byteLength(JSON.stringify(body));
  const auth = mockCredentials.user.header('user:default/bench');
  const agent = request.agent(backend.server);
  const once = async () => {
    const started = process.hrtime.bigint();
    const res = await agent
      .post('/api/kmp/policies/evaluate')
      .set('Authorization', auth)
      .send(body);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (res.status !== 200) {
      throw new Error(
        `evaluate answered ${res.status}: ${JSON.stringify(res.body)}`,
      );
    }
    return ms;
  };
  for (let i = 0; i < 100; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < REQUESTS; i++) samples.push(await once());
  samples.sort((a, b) => a - b);
  await backend.stop();
  const pct = (p: number) =>
    samples[
      Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)
    ];
  return {
    p50: pct(50),
    p99: pct(99),
    max: samples[samples.length - 1],
    bytes,
  };
}

async function main() {
  const bundle = PolicyBundleSet.load(
    path.resolve(__dirname, '../../../policies'),
  ).resolve({ environment: 'production' });
  const evaluator = PolicyEvaluator.create(bundle);
  const objects = deployments(OBJECTS);
  process.stderr.write(
    `policy bench: ${OBJECTS} Deployments, ${bundle.rules.length} rules (production baseline ${bundle.version}), Node ${process.version}\n`,
  );

  // warm both paths up before measuring either
  bareThroughput(objects.slice(0, 2000));
  evaluatorThroughput(evaluator, objects.slice(0, 2000));

  bareBundleThroughput(bundle, objects.slice(0, 2000));
  const bare = bareThroughput(objects);
  const bareBundle = bareBundleThroughput(bundle, objects);
  const ours = evaluatorThroughput(evaluator, objects);
  const latency = await routeLatency(objects.slice(0, 50));

  const ratio = ours.rate / bare;
  const ratioBundle = ours.rate / bareBundle;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const rows = [
    ['measure', 'result', 'goal', ''],
    [
      'A: bare cel-js, 10 simple pod-spec rules, parsed once',
      `${fmt(bare)} objects/s`,
      'floor',
      '',
    ],
    [
      `B: bare cel-js, this bundle's ${bundle.rules.length} rules, parsed once`,
      `${fmt(bareBundle)} objects/s`,
      'floor',
      '',
    ],
    [
      `PolicyEvaluator, full bundle (matching, params, messages)`,
      `${fmt(ours.rate)} objects/s`,
      '',
      '',
    ],
    [
      'evaluator / floor A',
      `${(ratio * 100).toFixed(1)} %`,
      '>= 80 %',
      ratio >= 0.8 ? 'met' : 'MISSED',
    ],
    [
      'evaluator / floor B',
      `${(ratioBundle * 100).toFixed(1)} %`,
      '>= 80 %',
      ratioBundle >= 0.8 ? 'met' : 'MISSED',
    ],
    [
      `POST /policies/evaluate, 50 manifests (${(latency.bytes / 1024).toFixed(
        0,
      )} KiB)`,
      `p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(
        2,
      )} ms, max ${latency.max.toFixed(1)} ms`,
      'p99 < 10 ms',
      latency.p99 < 10 ? 'met' : 'MISSED',
    ],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  process.stdout.write(
    `\n${line(rows[0])}\n${widths.map(w => '-'.repeat(w)).join('  ')}\n${rows
      .slice(1)
      .map(line)
      .join('\n')}\n\n(violations found per round: ${fmt(
      ours.violationsPerRound,
    )})\n`,
  );
}

main().then(
  // the backend's scheduler keeps timers alive after stop()
  () => process.exit(0),
  error => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  },
);
