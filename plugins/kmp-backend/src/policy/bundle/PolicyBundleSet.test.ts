import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BundleIssue, PolicyBundleError } from './BundleSource';
import { PolicyBundleSet } from './PolicyBundleSet';

const SHIPPED = path.resolve(__dirname, '../../../policies');

const BASELINE = `apiVersion: kmp.backstage.io/v1alpha1
kind: PolicyBaseline
metadata:
  name: test-baseline
spec:
  variables:
    - name: podSpec
      expression: "object.kind == 'Pod' ? object.spec : object.spec.template.spec"
  rules:
    - id: approved-registries
      description: Images from approved registries.
      severity: high
      match:
        kinds:
          - apiGroups: ['']
            kinds: [Pod]
      params:
        registries: [registry.example.com/]
      validations:
        - expression: "variables.podSpec.containers.all(c, params.registries.exists(p, c.image.startsWith(p)))"
          message: images must come from an approved registry
    - id: no-host-network
      description: No host network.
      severity: critical
      match:
        kinds:
          - apiGroups: [apps]
            kinds: [Deployment]
      validations:
        - expression: "!has(variables.podSpec.hostNetwork) || !variables.podSpec.hostNetwork"
          message: hostNetwork is not allowed
`;

function bundleDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmp-bundle-'));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

function loadIssues(files: Record<string, string>): BundleIssue[] {
  try {
    PolicyBundleSet.load(bundleDir(files));
  } catch (error) {
    if (error instanceof PolicyBundleError) return error.issues;
    throw error;
  }
  throw new Error('the bundle loaded');
}

const overlay = (name: string, spec: string, metadata = '') =>
  `apiVersion: kmp.backstage.io/v1alpha1
kind: PolicyOverlay
metadata:
  name: ${name}
${metadata}spec:
${spec}`;

describe('PolicyBundleSet', () => {
  it('loads the shipped bundle and resolves every environment and group', () => {
    const set = PolicyBundleSet.load(SHIPPED);
    const production = set.resolve({ environment: 'production' });
    expect(production.rules.map(r => r.id)).toContain('no-latest-tag');
    expect(production.rules.every(r => r.enforcement === 'Deny')).toBe(true);
    expect(production.overlays).toEqual(['overlays/production.yaml']);

    const nonProd = set.resolve({ environment: 'non-production' });
    expect(nonProd.rules.map(r => r.id)).not.toContain('no-latest-tag');
    expect(
      nonProd.rules.find(r => r.id === 'pod-security-seccomp')?.enforcement,
    ).toBe('Audit');
    expect(
      nonProd.rules.find(r => r.id === 'approved-registries')?.enforcement,
    ).toBe('Warn');
    expect(
      nonProd.rules.find(r => r.id === 'approved-registries')?.params
        .registries,
    ).toContain('ghcr.io/kmp-sandbox/');

    const payments = set.resolve({
      environment: 'production',
      environmentGroup: 'payments-prod',
      overlays: ['production'],
    });
    expect(payments.overlays).toEqual([
      'overlays/production.yaml',
      'groups/payments-prod.yaml',
    ]);
    expect(payments.rules.map(r => r.id)).toContain(
      'read-only-root-filesystem',
    );
    expect(
      payments.rules.find(r => r.id === 'required-metadata')?.params
        .annotations,
    ).toEqual([
      'kmp.backstage.io/owner',
      'kmp.backstage.io/cost-centre',
      'payments.kmp.example.com/pci-scope',
    ]);
    expect(payments.version).not.toBe(production.version);
    expect(payments.version).toMatch(/^[0-9a-f]{16}$/);
  });

  it('versions by content: same content same version, any change a new one', () => {
    const a = PolicyBundleSet.load(SHIPPED).resolve({ environment: 'edge' });
    const b = PolicyBundleSet.load(SHIPPED).resolve({ environment: 'edge' });
    expect(a.version).toBe(b.version);
    const warned = PolicyBundleSet.load(SHIPPED, {
      enforcement: { edge: 'Warn' },
    }).resolve({ environment: 'edge' });
    expect(warned.version).not.toBe(a.version);
    expect(warned.rules.every(r => r.enforcement === 'Warn')).toBe(true);
  });

  it('never lets configuration weaken production', () => {
    expect(() =>
      PolicyBundleSet.load(SHIPPED, { enforcement: { production: 'Warn' } }),
    ).toThrow('production rules are always enforced with Deny');
  });

  it('applies overlays: params, paramsAppend, severity, enforcement, disable, add', () => {
    const set = PolicyBundleSet.load(
      bundleDir({
        'baseline.yaml': BASELINE,
        'overlays/non-production.yaml': overlay(
          'non-production',
          `  enforcement: Warn
  rules:
    approved-registries:
      severity: low
      paramsAppend:
        registries: [ghcr.io/sandbox/]
    no-host-network:
      enabled: false
  addRules:
    - id: extra
      description: Extra rule.
      severity: low
      enforcement: Audit
      match:
        kinds: [{ apiGroups: [''], kinds: [Pod] }]
      validations:
        - expression: "has(object.metadata.labels)"
          message: labels please
`,
        ),
      }),
    );
    const bundle = set.resolve({ environment: 'non-production' });
    expect(
      bundle.rules.map(r => [r.id, r.severity, r.enforcement, r.sources]),
    ).toEqual([
      [
        'approved-registries',
        'low',
        'Warn',
        ['baseline.yaml', 'overlays/non-production.yaml'],
      ],
      ['extra', 'low', 'Audit', ['overlays/non-production.yaml']],
    ]);
    expect(bundle.rules[0].params.registries).toEqual([
      'registry.example.com/',
      'ghcr.io/sandbox/',
    ]);
  });

  it('refuses CEL that does not compile, with file, rule and position', () => {
    const issues = loadIssues({
      'baseline.yaml': BASELINE.replace(
        'c.image.startsWith(p)))"',
        'c.image.startsWith(p))"',
      ),
    });
    expect(issues).toEqual([
      expect.objectContaining({
        file: 'baseline.yaml',
        ruleId: 'approved-registries',
        line: 20,
        message: expect.stringContaining(
          'validation: CEL does not compile: Expected RPAREN, got EOF',
        ),
      }),
    ]);
    expect(issues[0].column).toBeGreaterThan(20);
  });

  it('points into literal block scalars line by line', () => {
    const issues = loadIssues({
      'baseline.yaml': BASELINE.replace(
        `        - expression: "!has(variables.podSpec.hostNetwork) || !variables.podSpec.hostNetwork"`,
        `        - expression: |\n            !has(variables.podSpec.hostNetwork) ||\n            !variables.podSpec.hostNetwork &&`,
      ),
    });
    expect(issues).toEqual([
      expect.objectContaining({
        ruleId: 'no-host-network',
        // the dangling && on the second line of the block
        line: 33,
        message: expect.stringContaining('CEL does not compile'),
      }),
    ]);
  });

  it('refuses unknown parameters in expressions and in overlays', () => {
    const inExpression = loadIssues({
      'baseline.yaml': BASELINE.replace(
        'params.registries.exists',
        'params.registryList.exists',
      ),
    });
    expect(inExpression).toEqual([
      expect.objectContaining({
        file: 'baseline.yaml',
        ruleId: 'approved-registries',
        line: 20,
        column: 60,
        message: expect.stringContaining(
          "unknown parameter 'registryList'; declared: registries",
        ),
      }),
    ]);

    const inOverlay = loadIssues({
      'baseline.yaml': BASELINE,
      'overlays/production.yaml': overlay(
        'production',
        `  rules:
    approved-registries:
      params:
        registeries: [x/]
`,
      ),
    });
    expect(inOverlay).toEqual([
      {
        file: 'overlays/production.yaml',
        ruleId: 'approved-registries',
        line: 9,
        column: 22,
        message:
          "unknown parameter 'registeries'; rule 'approved-registries' declares registries",
      },
    ]);
  });

  it('refuses parameters of the wrong type', () => {
    const issues = loadIssues({
      'baseline.yaml': BASELINE,
      'overlays/edge.yaml': overlay(
        'edge',
        `  rules:
    approved-registries:
      params:
        registries: registry.example.com/
`,
      ),
    });
    expect(issues[0]).toMatchObject({
      file: 'overlays/edge.yaml',
      ruleId: 'approved-registries',
      line: 9,
      message: "parameter 'registries' is a list, not a string",
    });
  });

  it('refuses overlays that reference a missing rule', () => {
    const issues = loadIssues({
      'baseline.yaml': BASELINE,
      'groups/payments-prod.yaml': overlay(
        'payments-prod',
        `  rules:
    no-privileged:
      severity: low
`,
        '  environment: production\n',
      ),
    });
    expect(issues).toEqual([
      {
        file: 'groups/payments-prod.yaml',
        ruleId: 'no-privileged',
        line: 9,
        column: 7,
        message:
          "overlay references rule 'no-privileged', which is not defined by baseline.yaml",
      },
    ]);
  });

  it('refuses functions Kubernetes CEL does not have and RE2-incompatible regexes', () => {
    const issues = loadIssues({
      'baseline.yaml': BASELINE.replace(
        '"!has(variables.podSpec.hostNetwork) || !variables.podSpec.hostNetwork"',
        `"variables.podSpec.containers.all(c, c.name.matches('^(?!debug)')) && variables.podSpec.containers.exists(c, cel.bind(x, c.image, x != ''))"`,
      ),
    });
    expect(issues.map(i => i.message)).toEqual([
      "validation: function 'bind' is not available in Kubernetes CEL",
      'validation: regular expression uses lookaround assertions',
    ]);
    expect(issues.every(i => i.ruleId === 'no-host-network')).toBe(true);
  });

  it('refuses unknown variables, unknown kinds and schema typos with positions', () => {
    const issues = loadIssues({
      'baseline.yaml': BASELINE.replace(
        '!variables.podSpec.hostNetwork"',
        '!variables.podspec.hostNetwork"',
      )
        .replace('kinds: [Deployment]', 'kinds: [Deploymnet]')
        .replace(
          '      severity: critical',
          '      severity: critical\n      sevrity: low',
        ),
    });
    expect(issues.map(i => [i.ruleId, i.line, i.message])).toEqual([
      ['no-host-network', 22, 'spec.rules.1: Unrecognized key: "sevrity"'],
    ]);
    const second = loadIssues({
      'baseline.yaml': BASELINE.replace(
        '!variables.podSpec.hostNetwork"',
        '!variables.podspec.hostNetwork"',
      ).replace('kinds: [Deployment]', 'kinds: [Deploymnet]'),
    });
    expect(second.map(i => [i.ruleId, i.line, i.message])).toEqual([
      ['no-host-network', 27, "unknown kind 'Deploymnet' in API group 'apps'"],
      [
        'no-host-network',
        30,
        expect.stringContaining("unknown variable 'variables.podspec'"),
      ],
    ]);
  });

  it('refuses production rules that do not deny', () => {
    const issues = loadIssues({
      'baseline.yaml': BASELINE,
      'overlays/production.yaml': overlay(
        'production',
        `  rules:
    no-host-network:
      enforcement: Warn
`,
      ),
    });
    expect(issues).toEqual([
      expect.objectContaining({
        file: 'baseline.yaml',
        ruleId: 'no-host-network',
        message: expect.stringContaining(
          'production rules must be enforced with Deny',
        ),
      }),
    ]);
  });

  it('reports YAML syntax errors and group overlays without an environment', () => {
    expect(
      loadIssues({ 'baseline.yaml': `${BASELINE}\n  rules: [oops` }),
    ).toContainEqual(
      expect.objectContaining({
        file: 'baseline.yaml',
        line: 33,
        message: expect.stringContaining('Flow sequence'),
      }),
    );
    expect(
      loadIssues({
        'baseline.yaml': BASELINE,
        'groups/retail-edge.yaml': overlay('retail-edge', '  rules: {}\n'),
      }),
    ).toEqual([
      expect.objectContaining({
        file: 'groups/retail-edge.yaml',
        message:
          "group overlay 'retail-edge' must name its environment in metadata.environment",
      }),
    ]);
  });
});
