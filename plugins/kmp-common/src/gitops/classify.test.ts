import { clusterStatusSchema } from '../model';
import {
  classifyArgoApplication,
  classifyFluxObject,
  classifyGitOpsObject,
  GitOpsObject,
} from '.';

const sha = 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2';
const t = '2026-12-06T11:50:00Z';

const kustomization = (
  ready?: { status: string; reason?: string; message?: string },
  patch: Partial<GitOpsObject> = {},
): GitOpsObject => ({
  apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
  kind: 'Kustomization',
  metadata: { name: 'infrastructure', namespace: 'flux-system' },
  status: {
    lastAttemptedRevision: `main@sha1:${sha}`,
    lastAppliedRevision: 'main@sha1:previous',
    conditions: ready
      ? [
          { type: 'Reconciling', status: 'False', reason: 'Other' },
          { type: 'Ready', lastTransitionTime: t, ...ready },
        ]
      : [],
  },
  ...patch,
});

const application = (
  status: GitOpsObject['status'],
  patch: Partial<GitOpsObject> = {},
): GitOpsObject => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'payments', namespace: 'argocd' },
  status: {
    reconciledAt: '2026-12-06T11:59:30Z',
    ...status,
    sync: { revision: sha, ...status?.sync },
  },
  ...patch,
});

describe('classifyFluxObject', () => {
  it('is ready when Ready is True, with the applied revision and since', () => {
    expect(
      classifyFluxObject(
        kustomization({
          status: 'True',
          reason: 'ReconciliationSucceeded',
          message: 'Applied revision: main@sha1:previous',
        }),
      ),
    ).toEqual({
      engine: 'flux',
      state: 'ready',
      reason: 'ReconciliationSucceeded',
      message: 'Applied revision: main@sha1:previous',
      revision: 'main@sha1:previous',
      since: '2026-12-06T11:50:00.000Z',
    });
  });

  it('is failed when Ready is False for a failure reason', () => {
    expect(
      classifyFluxObject(
        kustomization({
          status: 'False',
          reason: 'BuildFailed',
          message: 'kustomize build failed',
        }),
      ),
    ).toMatchObject({
      state: 'failed',
      reason: 'BuildFailed',
      message: 'kustomize build failed',
    });
    // Retrying after a failure is still a failure.
    expect(
      classifyFluxObject(
        kustomization({ status: 'False', reason: 'ProgressingWithRetry' }),
      ).state,
    ).toBe('failed');
  });

  it('is progressing while reconciling or waiting for a dependency', () => {
    for (const ready of [
      { status: 'False', reason: 'Progressing' },
      { status: 'False', reason: 'DependencyNotReady' },
      { status: 'Unknown', reason: 'Progressing' },
    ]) {
      expect(classifyFluxObject(kustomization(ready))).toMatchObject({
        state: 'progressing',
        reason: ready.reason,
      });
    }
  });

  it('is suspended when reconciliation is switched off, whatever Ready says', () => {
    expect(
      classifyFluxObject(
        kustomization(
          { status: 'False', reason: 'BuildFailed' },
          { spec: { suspend: true } },
        ),
      ),
    ).toMatchObject({ state: 'suspended', reason: 'Suspended' });
  });

  it('is unknown without a Ready condition, and reads the revision of sources and releases', () => {
    expect(classifyFluxObject(kustomization(undefined)).state).toBe('unknown');
    expect(classifyFluxObject({}).state).toBe('unknown');
    expect(
      classifyFluxObject({
        status: { artifact: { revision: `main@sha1:${sha}` } },
      }).revision,
    ).toBe(`main@sha1:${sha}`);
    expect(
      classifyFluxObject({
        status: {
          history: [{ chartVersion: '20.6.2' }],
          lastAttemptedRevision: '20.6.3',
        },
      }).revision,
    ).toBe('20.6.2');
  });
});

describe('classifyArgoApplication', () => {
  it('is ready when Synced and Healthy', () => {
    expect(
      classifyArgoApplication(
        application({
          sync: { status: 'Synced' },
          health: { status: 'Healthy' },
          operationState: {
            phase: 'Succeeded',
            message: 'successfully synced (all tasks run)',
            finishedAt: '2026-12-06T11:00:10Z',
          },
        }),
      ),
    ).toEqual({
      engine: 'argocd',
      state: 'ready',
      reason: 'Synced',
      message: 'successfully synced (all tasks run)',
      revision: sha,
      since: '2026-12-06T11:00:10.000Z',
    });
  });

  it('is failed when Degraded or Missing, even when also OutOfSync', () => {
    expect(
      classifyArgoApplication(
        application({
          sync: { status: 'OutOfSync' },
          health: {
            status: 'Degraded',
            message:
              'Deployment "payments-worker" exceeded its progress deadline',
          },
        }),
      ),
    ).toEqual({
      engine: 'argocd',
      state: 'failed',
      reason: 'Degraded',
      message: 'Deployment "payments-worker" exceeded its progress deadline',
      revision: sha,
      since: '2026-12-06T11:59:30.000Z',
    });
    expect(
      classifyArgoApplication(
        application({
          sync: { status: 'Synced' },
          health: { status: 'Missing' },
        }),
      ).state,
    ).toBe('failed');
  });

  it('is out-of-sync when OutOfSync and nothing failed', () => {
    expect(
      classifyArgoApplication(
        application({
          sync: { status: 'OutOfSync' },
          health: { status: 'Healthy' },
        }),
      ),
    ).toMatchObject({ state: 'out-of-sync', reason: 'OutOfSync' });
  });

  it('is failed when the last sync operation failed or errored and the app has not converged since', () => {
    for (const phase of ['Failed', 'Error']) {
      expect(
        classifyArgoApplication(
          application({
            sync: { status: 'OutOfSync' },
            health: { status: 'Healthy' },
            operationState: {
              phase,
              message: 'one or more objects failed to apply',
              finishedAt: '2026-12-06T11:58:00Z',
            },
          }),
        ),
      ).toMatchObject({
        state: 'failed',
        reason: `Sync${phase}`,
        message: 'one or more objects failed to apply',
        since: '2026-12-06T11:58:00.000Z',
      });
    }
    // A failed operation that a later reconciliation overtook is history.
    expect(
      classifyArgoApplication(
        application({
          sync: { status: 'Synced' },
          health: { status: 'Healthy' },
          operationState: { phase: 'Failed', message: 'old failure' },
        }),
      ).state,
    ).toBe('ready');
  });

  it('is failed when manifests cannot be generated (ComparisonError)', () => {
    expect(
      classifyArgoApplication(
        application({
          sync: { status: 'Unknown' },
          health: { status: 'Healthy' },
          conditions: [
            {
              type: 'ComparisonError',
              message: 'rpc error: kustomize build failed',
            },
          ],
        }),
      ),
    ).toMatchObject({
      state: 'failed',
      reason: 'ComparisonError',
      message: 'rpc error: kustomize build failed',
    });
  });

  it('is progressing, suspended or unknown otherwise', () => {
    expect(
      classifyArgoApplication(
        application({
          sync: { status: 'Synced' },
          health: { status: 'Progressing' },
        }),
      ).state,
    ).toBe('progressing');
    expect(
      classifyArgoApplication(
        application({
          sync: { status: 'Synced' },
          health: { status: 'Suspended' },
        }),
      ).state,
    ).toBe('suspended');
    expect(classifyArgoApplication(application({})).state).toBe('unknown');
  });
});

describe('classifyGitOpsObject', () => {
  it('dispatches by API group and ignores other objects', () => {
    expect(
      classifyGitOpsObject(
        application({
          sync: { status: 'OutOfSync' },
          health: { status: 'Healthy' },
        }),
      )?.state,
    ).toBe('out-of-sync');
    expect(
      classifyGitOpsObject(
        kustomization({ status: 'False', reason: 'BuildFailed' }),
      ),
    ).toMatchObject({ engine: 'flux', state: 'failed' });
    expect(
      classifyGitOpsObject({ apiVersion: 'apps/v1', kind: 'Deployment' }),
    ).toBeUndefined();
    expect(
      classifyGitOpsObject({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'AppProject',
      }),
    ).toBeUndefined();
  });
});

describe('clusterStatusSchema.gitops', () => {
  it('accepts a summary and refuses an unknown state or an overlong list', () => {
    const entry = {
      engine: 'flux',
      kind: 'Kustomization',
      namespace: 'flux-system',
      name: 'infrastructure',
      state: 'failed',
      reason: 'BuildFailed',
      since: '2026-12-06T11:50:00.000Z',
    };
    const gitops = {
      objects: 3,
      failingCount: 1,
      outOfSyncCount: 0,
      failing: [entry],
      outOfSync: [],
    };
    expect(clusterStatusSchema.safeParse({ gitops }).success).toBe(true);
    expect(
      clusterStatusSchema.safeParse({
        gitops: { ...gitops, failing: [{ ...entry, state: 'broken' }] },
      }).success,
    ).toBe(false);
    expect(
      clusterStatusSchema.safeParse({
        gitops: { ...gitops, failing: Array(51).fill(entry) },
      }).success,
    ).toBe(false);
  });
});
