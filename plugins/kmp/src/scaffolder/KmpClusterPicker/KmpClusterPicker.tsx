import { Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import type {
  CustomFieldValidator,
  FieldExtensionComponentProps,
} from '@backstage/plugin-scaffolder-react';
import FormControl from '@material-ui/core/FormControl';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import FormHelperText from '@material-ui/core/FormHelperText';
import FormLabel from '@material-ui/core/FormLabel';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Radio from '@material-ui/core/Radio';
import RadioGroup from '@material-ui/core/RadioGroup';
import Select from '@material-ui/core/Select';
import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { kmpApiRef } from '../../api';

/**
 * The value of the field: one cluster, or one environment group (every
 * cluster in it).
 *
 * @public
 */
export interface KmpClusterPickerValue {
  cluster?: string;
  environmentGroup?: string;
}

/**
 * `ui:options` of the field.
 *
 * @public
 */
export interface KmpClusterPickerUiOptions {
  /** What may be picked; default both. */
  allow?: Array<'cluster' | 'environmentGroup'>;
  /** Only clusters / groups of these environments. */
  environments?: Array<'production' | 'non-production' | 'edge'>;
}

type Kind = 'cluster' | 'environmentGroup';

/**
 * Picks a cluster or an environment group of the fleet, fed from the KMP
 * registry (only what the user may see).
 *
 * @public
 */
export function KmpClusterPicker(
  props: FieldExtensionComponentProps<
    KmpClusterPickerValue,
    KmpClusterPickerUiOptions
  >,
) {
  const {
    onChange,
    schema: { title = 'Cluster or environment group', description },
    required,
    uiSchema,
    rawErrors,
    formData,
    idSchema,
  } = props;
  const api = useApi(kmpApiRef);
  const options = uiSchema['ui:options'] ?? {};
  const allow: Kind[] = options.allow?.length
    ? options.allow
    : ['cluster', 'environmentGroup'];
  const environments = options.environments;

  const { value, loading, error } = useAsync(async () => {
    const [groups, clusters] = await Promise.all([
      api.listEnvironmentGroups(),
      api.listClusters({
        orderBy: 'name',
        limit: 1000,
        ...(environments ? { environment: environments } : {}),
      }),
    ]);
    return {
      groups: groups.items.filter(
        g => !environments || environments.includes(g.environment),
      ),
      clusters: clusters.items,
    };
  }, [api, environments?.join(',')]);

  // What is being picked is the user's choice even before a name is.
  const [kind, setKind] = useState<Kind>(() => {
    if (formData?.environmentGroup && allow.includes('environmentGroup')) {
      return 'environmentGroup';
    }
    if (formData?.cluster && allow.includes('cluster')) return 'cluster';
    return allow[0];
  });
  const selected =
    (kind === 'cluster' ? formData?.cluster : formData?.environmentGroup) ?? '';
  const id = idSchema?.$id ?? 'kmp-cluster-picker';

  if (loading) return <Progress />;

  return (
    <FormControl
      fullWidth
      margin="normal"
      required={required}
      error={!!error || (rawErrors?.length ?? 0) > 0}
    >
      {allow.length > 1 && (
        <>
          <FormLabel component="legend">{title}</FormLabel>
          <RadioGroup
            row
            aria-label="Target kind"
            value={kind}
            onChange={e => {
              setKind(e.target.value as Kind);
              onChange({});
            }}
          >
            <FormControlLabel
              value="cluster"
              control={<Radio />}
              label="One cluster"
            />
            <FormControlLabel
              value="environmentGroup"
              control={<Radio />}
              label="Environment group"
            />
          </RadioGroup>
        </>
      )}
      <FormControl fullWidth required={required}>
        <InputLabel id={`${id}-label`}>
          {kind === 'cluster' ? 'Cluster' : 'Environment group'}
        </InputLabel>
        <Select
          labelId={`${id}-label`}
          id={id}
          value={selected}
          onChange={e => {
            const name = String(e.target.value);
            onChange(
              kind === 'cluster'
                ? { cluster: name }
                : { environmentGroup: name },
            );
          }}
        >
          {kind === 'cluster'
            ? value?.clusters.map(c => (
                <MenuItem key={c.name} value={c.name}>
                  {c.name} — {c.environmentGroup} ({c.environment},{' '}
                  {c.lifecycleState})
                </MenuItem>
              ))
            : value?.groups.map(g => (
                <MenuItem key={g.name} value={g.name}>
                  {g.title ?? g.name} ({g.environment})
                </MenuItem>
              ))}
        </Select>
      </FormControl>
      <FormHelperText>
        {error
          ? `Could not load the fleet: ${error.message}`
          : description ??
            (kind === 'environmentGroup'
              ? 'Every cluster of the group. Production clusters are changed through GitOps.'
              : 'Production clusters are changed through GitOps.')}
      </FormHelperText>
    </FormControl>
  );
}

/**
 * Exactly one of cluster and environment group must be picked.
 *
 * @public
 */
export const validateKmpClusterPicker: CustomFieldValidator<
  KmpClusterPickerValue
> = (value, validation) => {
  const picked = [value?.cluster, value?.environmentGroup].filter(Boolean);
  if (picked.length !== 1) {
    validation.addError('pick one cluster or one environment group');
  }
};
