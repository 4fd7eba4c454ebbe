import {
  CopyTextButton,
  InfoCard,
  Link,
  Progress,
  StatusError,
  StatusOK,
  StatusWarning,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { KMP_RULES, PolicyEvaluateResponse } from '@kmp/plugin-kmp-common';
import Button from '@material-ui/core/Button';
import Tab from '@material-ui/core/Tab';
import Tabs from '@material-ui/core/Tabs';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { useEffect, useMemo, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import YAML from 'yaml';
import { kmpApiRef } from '../../api';
import { useKmpCluster } from '../ClusterPage/KmpClusterContext';
import { GitOpsNotice, GuardedAction, visibilityOf } from '../Operations';
import {
  ClickOpsChange,
  manifestOf,
  ownershipOf,
  validateChange,
} from './manifests';
import { PublishToGitAction } from './PublishToGitAction';

const useStyles = makeStyles(theme => ({
  form: {
    display: 'flex',
    gap: theme.spacing(2),
    flexWrap: 'wrap',
    margin: theme.spacing(2, 0),
  },
  yaml: {
    fontFamily: 'monospace',
    fontSize: '0.8rem',
    whiteSpace: 'pre',
    overflow: 'auto',
    maxHeight: 400,
    background: theme.palette.background.default,
    padding: theme.spacing(1),
  },
  actions: {
    display: 'flex',
    gap: theme.spacing(1),
    alignItems: 'center',
    marginTop: theme.spacing(1),
  },
}));

type Kind = ClickOpsChange['kind'];

const TABS: Array<{ kind: Kind; label: string }> = [
  { kind: 'deploy', label: 'Deploy an image' },
  { kind: 'scale', label: 'Scale' },
  { kind: 'env', label: 'Set an environment variable' },
];

const FIELDS: Record<Kind, Array<{ field: string; label: string }>> = {
  deploy: [
    { field: 'namespace', label: 'Namespace' },
    { field: 'name', label: 'Deployment' },
    { field: 'image', label: 'Image' },
    { field: 'replicas', label: 'Replicas' },
    { field: 'port', label: 'Container port (optional)' },
    { field: 'annotations', label: 'Annotations (optional: key=value, …)' },
  ],
  scale: [
    { field: 'namespace', label: 'Namespace' },
    { field: 'name', label: 'Deployment' },
    { field: 'replicas', label: 'Replicas' },
  ],
  env: [
    { field: 'namespace', label: 'Namespace' },
    { field: 'name', label: 'Deployment' },
    { field: 'container', label: 'Container' },
    { field: 'key', label: 'Variable' },
    { field: 'value', label: 'Value' },
  ],
};

const initial = (kind: Kind, namespace: string): ClickOpsChange => {
  switch (kind) {
    case 'deploy':
      return {
        kind,
        namespace,
        name: '',
        image: '',
        replicas: '1',
        port: '',
        annotations: '',
      };
    case 'scale':
      return { kind, namespace, name: '', replicas: '1' };
    default:
      return {
        kind: 'env',
        namespace,
        name: '',
        container: '',
        key: '',
        value: '',
      };
  }
};

/** The golden-path service template, prefilled with a deploy form. */
function goldenPathUrl(
  cluster: string,
  change: Extract<ClickOpsChange, { kind: 'deploy' }>,
): string {
  const formData = {
    name: change.name,
    namespace: change.namespace,
    image: change.image,
    replicas: Number(change.replicas),
    target: { cluster },
  };
  return `/create/templates/default/kmp-golden-path-service?formData=${encodeURIComponent(
    JSON.stringify(formData),
  )}`;
}

function PreflightResult(props: { result: PolicyEvaluateResponse }) {
  const { result } = props;
  const violations = result.results.flatMap(r =>
    r.error
      ? [{ key: `e${r.index}`, text: r.error, deny: true }]
      : r.violations.map((v, i) => ({
          key: `${r.index}-${i}`,
          text: `${v.ruleId} (${v.enforcement}, ${v.severity}): ${v.message}${
            v.path ? ` at ${v.path}` : ''
          }`,
          deny: v.enforcement === 'Deny',
        })),
  );
  return (
    <div aria-label="pre-flight result">
      {!result.allowed && (
        <StatusError>
          Denied by policy bundle {result.bundle.version}
        </StatusError>
      )}
      {result.allowed && violations.length > 0 && (
        <StatusWarning>
          Allowed by policy bundle {result.bundle.version}, with warnings
        </StatusWarning>
      )}
      {result.allowed && violations.length === 0 && (
        <StatusOK>Allowed by policy bundle {result.bundle.version}</StatusOK>
      )}
      <ul>
        {violations.map(v => (
          <li key={v.key}>
            <Typography
              variant="body2"
              color={v.deny ? 'error' : 'textPrimary'}
            >
              {v.text}
            </Typography>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * Guard-railed ClickOps for common changes: a form generates the YAML (the
 * record of the change), the policy bundle pre-flights it, and it is either
 * applied through the broker (non-production) or taken to Git (any
 * environment).
 */
export function ClickOpsCard() {
  const classes = useStyles();
  const kmpApi = useApi(kmpApiRef);
  const { cluster, permissions } = useKmpCluster();
  const write = permissions.decide('write');
  const defaultNamespace = permissions.teams[0] ?? '';
  const [kind, setKind] = useState<Kind>('deploy');
  const [change, setChange] = useState<ClickOpsChange>(() =>
    initial('deploy', defaultNamespace),
  );
  const [preflight, setPreflight] = useState<{
    yaml: string;
    result?: PolicyEvaluateResponse;
    error?: Error;
    running?: boolean;
  }>();

  // The viewer's team namespace, once their teams are known.
  useEffect(() => {
    if (defaultNamespace) {
      setChange(c => (c.namespace ? c : { ...c, namespace: defaultNamespace }));
    }
  }, [defaultNamespace]);

  const errors = useMemo(() => validateChange(change), [change]);
  const valid = Object.keys(errors).length === 0;
  // The target namespace's ownership, for a new Deployment's metadata. A
  // namespace that cannot be read (not there yet, not readable) adds none:
  // the pre-flight then names what is missing.
  const namespaceName = errors.namespace ? '' : change.namespace;
  const ownership = useAsync(async () => {
    if (!namespaceName || change.kind !== 'deploy') return {};
    try {
      const { body } = await kmpApi.proxyJson<{
        metadata?: {
          labels?: Record<string, string>;
          annotations?: Record<string, string>;
        };
      }>(cluster.name, `/api/v1/namespaces/${namespaceName}`);
      return ownershipOf(body);
    } catch {
      return {};
    }
  }, [kmpApi, cluster.name, namespaceName, change.kind]);
  const manifest = useMemo(
    () => (valid ? manifestOf(change, ownership.value) : undefined),
    [valid, change, ownership.value],
  );
  const yaml = manifest ? YAML.stringify(manifest) : '';
  const checked =
    preflight?.yaml === yaml && preflight.result ? preflight.result : undefined;

  if (visibilityOf(write) === 'hidden') return null;

  const set = (field: string, value: string) =>
    setChange(c => ({ ...c, [field]: value } as ClickOpsChange));

  // Production: changes travel through Git; Apply stays disabled.
  const viaGit = visibilityOf(write) === 'disabled';
  const preflightBlock =
    (!checked && 'check the policies first') ||
    (!checked?.allowed && 'the policy pre-flight denies it') ||
    undefined;
  const publish = manifest && (
    <PublishToGitAction
      cluster={cluster.name}
      what={`${manifest.kind} ${manifest.metadata.namespace}/${manifest.metadata.name}`}
      primary={viaGit}
      disabledReason={preflightBlock}
      onPublish={message =>
        kmpApi.publishToGit(cluster.name, {
          manifests: [manifest],
          namespace: change.namespace,
          ...(message ? { message } : {}),
        })
      }
    />
  );

  const check = async () => {
    setPreflight({ yaml, running: true });
    try {
      const result = await kmpApi.evaluatePolicies({
        target: { cluster: cluster.name },
        manifests: [manifest],
      });
      setPreflight({ yaml, result });
    } catch (e) {
      setPreflight({ yaml, error: e as Error });
    }
  };

  return (
    <InfoCard
      title="Change through KMP"
      subheader="The generated YAML is the record of every change"
    >
      <GitOpsNotice decision={write} />
      <Tabs
        value={kind}
        onChange={(_e, k: Kind) => {
          setKind(k);
          setChange(initial(k, change.namespace));
        }}
        indicatorColor="primary"
      >
        {TABS.map(t => (
          <Tab key={t.kind} value={t.kind} label={t.label} />
        ))}
      </Tabs>
      <div className={classes.form}>
        {FIELDS[kind].map(f => {
          const value = (change as Record<string, string>)[f.field] ?? '';
          const error =
            value !== '' || f.field === 'namespace'
              ? errors[f.field]
              : undefined;
          return (
            <TextField
              key={f.field}
              id={`kmp-clickops-${f.field}`}
              label={f.label}
              value={value}
              onChange={e => set(f.field, e.target.value)}
              error={!!error}
              helperText={error}
            />
          );
        })}
      </div>
      {manifest ? (
        <>
          <Typography variant="subtitle2">Generated YAML</Typography>
          <pre className={classes.yaml} aria-label="generated YAML">
            {yaml}
          </pre>
          <div className={classes.actions}>
            <Button
              variant="outlined"
              onClick={check}
              // The namespace's ownership still changes the YAML.
              disabled={preflight?.running || ownership.loading}
            >
              Check policies
            </Button>
            {viaGit && publish}
            <GuardedAction
              decision={write}
              disabledReason={
                (viaGit &&
                  `${
                    write.reason ?? KMP_RULES.productionGitOps
                  }: publish to Git instead`) ||
                preflightBlock
              }
              label="Apply"
              ariaLabel="Apply to the cluster"
              title={`Apply to ${cluster.name}?`}
              description={`Server-side apply as kmp-clickops of ${manifest.kind} ${manifest.metadata.namespace}/${manifest.metadata.name}. The broker checks the policies again on the merged object.`}
              onConfirm={() => kmpApi.applyManifest(cluster.name, manifest)}
            />
            {!viaGit && publish}
            <CopyTextButton
              text={yaml}
              tooltipText="YAML copied"
              aria-label="Copy YAML"
            />
          </div>
          {preflight?.running && <Progress />}
          {preflight?.error && (
            <StatusError>
              Pre-flight failed: {preflight.error.message}
            </StatusError>
          )}
          {checked && <PreflightResult result={checked} />}
          <Typography variant="body2" color="textSecondary">
            Publish to Git commits this YAML to the cluster's GitOps folder as
            you: the record of the change, and in production the only way to
            make it.
            {change.kind === 'deploy' && (
              <>
                {' '}
                For a new service with its own repository, use{' '}
                <Link to={goldenPathUrl(cluster.name, change)}>
                  the golden-path service template with these values
                </Link>
                .
              </>
            )}
          </Typography>
        </>
      ) : (
        <Typography variant="body2" color="textSecondary">
          Fill in the form to see the YAML of the change.
        </Typography>
      )}
    </InfoCard>
  );
}
