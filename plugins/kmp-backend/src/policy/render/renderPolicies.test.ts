import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { PolicyBundleSet } from '../bundle/PolicyBundleSet';
import {
  celLiteral,
  renderGatekeeper,
  renderKyverno,
  renderValidatingAdmissionPolicies,
  toYaml,
} from './renderPolicies';

const bundle = PolicyBundleSet.load(
  path.resolve(__dirname, '../../../policies'),
).resolve({ environment: 'non-production' });
const rule = (id: string) => bundle.rules.find(r => r.id === id)!;

describe('renderers', () => {
  it('writes parameters as homogeneous CEL literals', () => {
    expect(celLiteral(['a', 'b"c'])).toBe('["a", "b\\"c"]');
    expect(celLiteral({ payments: ['x/'], retail: [] })).toBe(
      '{"payments": ["x/"], "retail": []}',
    );
    expect(celLiteral(true)).toBe('true');
    expect(celLiteral(3)).toBe('3');
  });

  it('renders one ValidatingAdmissionPolicy and binding per rule with inline parameters', () => {
    const objects = renderValidatingAdmissionPolicies(bundle);
    expect(objects).toHaveLength(bundle.rules.length * 2);
    const policy: any = objects.find(
      o =>
        o.metadata.name === 'kmp-approved-registries' &&
        o.kind === 'ValidatingAdmissionPolicy',
    );
    expect(policy.apiVersion).toBe('admissionregistration.k8s.io/v1');
    expect(policy.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'kmp',
      'kmp.backstage.io/policy-bundle-version': bundle.version,
      'kmp.backstage.io/policy-rule': 'approved-registries',
    });
    expect(policy.spec.failurePolicy).toBe('Fail');
    const names = policy.spec.variables.map((v: any) => v.name);
    // parameters first, then the bundle variables it needs, then its own
    expect(names).toEqual([
      'param_registries',
      'param_teamLabel',
      'param_teamRegistries',
      'podSpec',
      'containers',
      'allContainers',
      'images',
      'imageRefs',
      'allowedRegistries',
    ]);
    expect(policy.spec.variables[0].expression).toBe(
      celLiteral(rule('approved-registries').params.registries),
    );
    const allowed = policy.spec.variables.find(
      (v: any) => v.name === 'allowedRegistries',
    );
    expect(allowed.expression).toContain('variables.param_teamRegistries[');
    expect(allowed.expression).not.toMatch(/(^|[^.])params\./);
    expect(policy.spec.validations[0]).toMatchObject({
      message:
        '[approved-registries] images must come from an approved registry',
      messageExpression: expect.stringMatching(
        /^"\[approved-registries\] " \+ \(/,
      ),
    });
    expect(policy.spec.matchConstraints.resourceRules[0]).toEqual({
      apiGroups: [''],
      apiVersions: ['*'],
      operations: ['CREATE', 'UPDATE'],
      resources: ['pods', 'pods/ephemeralcontainers'],
      scope: 'Namespaced',
    });
    expect(
      policy.spec.matchConstraints.namespaceSelector.matchExpressions,
    ).toContainEqual({
      key: 'kubernetes.io/metadata.name',
      operator: 'NotIn',
      values: expect.arrayContaining(['kube-system']),
    });

    const bindings = objects.filter(
      o => o.kind === 'ValidatingAdmissionPolicyBinding',
    ) as any[];
    const actions = Object.fromEntries(
      bindings.map(b => [b.spec.policyName, b.spec.validationActions]),
    );
    expect(actions['kmp-approved-registries']).toEqual(['Warn', 'Audit']);
    expect(actions['kmp-pod-security-seccomp']).toEqual(['Audit']);

    const hostNamespaces: any = objects.find(
      o => o.metadata.name === 'kmp-pod-security-host-namespaces',
    );
    expect(hostNamespaces.spec.variables.map((v: any) => v.name)).toEqual([
      'podSpec',
    ]);
    const metadata: any = objects.find(
      o => o.metadata.name === 'kmp-required-metadata',
    );
    expect(metadata.spec.matchConditions[0].name).toBe('not_controller_owned');
  });

  it('renders Gatekeeper templates on the CEL engine with constraint parameters', () => {
    const objects = renderGatekeeper(bundle) as any[];
    const template = objects.find(
      o => o.metadata.name === 'kmpapprovedregistries',
    );
    expect(template.apiVersion).toBe('templates.gatekeeper.sh/v1');
    expect(template.spec.crd.spec.names.kind).toBe('KmpApprovedRegistries');
    expect(
      template.spec.crd.spec.validation.openAPIV3Schema.properties,
    ).toEqual({
      registries: { type: 'array', items: { type: 'string' } },
      teamLabel: { type: 'string' },
      teamRegistries: {
        type: 'object',
        additionalProperties: { type: 'array', items: { type: 'string' } },
      },
    });
    const code = template.spec.targets[0].code[0];
    expect(code.engine).toBe('K8sNativeValidation');
    const source = JSON.stringify(code.source);
    expect(source).toContain('variables.params.registries');
    expect(source).not.toContain('param_');
    const constraint = objects.find(o => o.kind === 'KmpApprovedRegistries');
    expect(constraint).toMatchObject({
      apiVersion: 'constraints.gatekeeper.sh/v1beta1',
      metadata: { name: 'kmp-approved-registries' },
      spec: {
        enforcementAction: 'warn',
        parameters: rule('approved-registries').params,
        match: { excludedNamespaces: expect.arrayContaining(['kube-system']) },
      },
    });
    const metadataTemplate = objects.find(
      o => o.metadata.name === 'kmprequiredmetadata',
    );
    expect(
      metadataTemplate.spec.targets[0].code[0].source.matchCondition,
    ).toHaveLength(1);
    const seccomp = objects.find(o => o.kind === 'KmpPodSecuritySeccomp');
    expect(seccomp.spec.enforcementAction).toBe('dryrun');
  });

  it('renders Kyverno ValidatingPolicies with background evaluation', () => {
    const objects = renderKyverno(bundle) as any[];
    expect(objects).toHaveLength(bundle.rules.length);
    expect(objects[0]).toMatchObject({
      apiVersion: 'policies.kyverno.io/v1',
      kind: 'ValidatingPolicy',
      spec: {
        validationActions: ['Warn'],
        evaluation: { background: { enabled: true } },
      },
    });
    expect(
      objects[0].metadata.annotations['policies.kyverno.io/severity'],
    ).toBe('high');
  });

  it('writes multi-document YAML that parses back to the same objects', () => {
    const objects = renderValidatingAdmissionPolicies(bundle);
    const text = toYaml(objects, 'header line');
    expect(text.startsWith('# header line\n---\n')).toBe(true);
    expect(parseAllDocuments(text).map(d => d.toJS())).toEqual(objects);
  });
});
