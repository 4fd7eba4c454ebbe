import { configApiRef, useApi } from '@backstage/core-plugin-api';
import type { FieldExtensionComponentProps } from '@backstage/plugin-scaffolder-react';
import FormControl from '@material-ui/core/FormControl';
import FormHelperText from '@material-ui/core/FormHelperText';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Select from '@material-ui/core/Select';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { useEffect, useMemo } from 'react';

/**
 * A size tier as the platform configures it (`kmp.goldenPaths.sizeTiers`).
 *
 * @public
 */
export interface SizeTierInfo {
  name: string;
  title?: string;
  description?: string;
  quota: Record<string, string>;
  limits?: {
    defaultRequest?: { cpu?: string; memory?: string };
    default?: { cpu?: string; memory?: string };
    max?: { cpu?: string; memory?: string };
  };
}

/** Human names of the quota keys, in display order. */
const QUOTA_LABELS: Array<[string, string]> = [
  ['requests.cpu', 'CPU requests'],
  ['limits.cpu', 'CPU limits'],
  ['requests.memory', 'Memory requests'],
  ['limits.memory', 'Memory limits'],
  ['pods', 'Pods'],
  ['persistentvolumeclaims', 'Volume claims'],
  ['requests.storage', 'Storage'],
  ['services.loadbalancers', 'Load balancers'],
];

/**
 * Reads the size tiers from the frontend configuration; the backend reads
 * the same keys, so what the picker shows is what the namespace gets.
 */
export function useSizeTiers(): {
  tiers: SizeTierInfo[];
  defaultTier?: string;
} {
  const config = useApi(configApiRef);
  return useMemo(() => {
    // Read as one object: tier and quota keys (requests.cpu) are not
    // config path segments.
    const raw = (config.getOptional('kmp.goldenPaths.sizeTiers') ??
      {}) as Record<string, Omit<SizeTierInfo, 'name'>>;
    const tiers = Object.entries(raw).map(([name, tier]) => ({
      name,
      title: tier.title,
      description: tier.description,
      quota: tier.quota ?? {},
      limits: tier.limits,
    }));
    return {
      tiers,
      defaultTier: config.getOptionalString('kmp.goldenPaths.defaultSizeTier'),
    };
  }, [config]);
}

function QuotaTable(props: { tier: SizeTierInfo }) {
  const { tier } = props;
  const known = QUOTA_LABELS.filter(([key]) => tier.quota[key] !== undefined);
  const others = Object.keys(tier.quota)
    .filter(key => !QUOTA_LABELS.some(([k]) => k === key))
    .sort()
    .map(key => [key, key] as [string, string]);
  const limits = tier.limits;
  return (
    <Table size="small" aria-label={`Quota of the ${tier.name} tier`}>
      <TableBody>
        {[...known, ...others].map(([key, label]) => (
          <TableRow key={key}>
            <TableCell component="th" scope="row">
              {label}
            </TableCell>
            <TableCell>{tier.quota[key]}</TableCell>
          </TableRow>
        ))}
        {limits?.default && (
          <TableRow>
            <TableCell component="th" scope="row">
              Container default
            </TableCell>
            <TableCell>
              {[
                limits.defaultRequest &&
                  `requests ${limits.defaultRequest.cpu ?? '–'} CPU / ${
                    limits.defaultRequest.memory ?? '–'
                  }`,
                `limits ${limits.default.cpu ?? '–'} CPU / ${
                  limits.default.memory ?? '–'
                }`,
              ]
                .filter(Boolean)
                .join(', ')}
            </TableCell>
          </TableRow>
        )}
        {limits?.max && (
          <TableRow>
            <TableCell component="th" scope="row">
              Container maximum
            </TableCell>
            <TableCell>
              {limits.max.cpu ?? '–'} CPU / {limits.max.memory ?? '–'}
            </TableCell>
          </TableRow>
        )}
      </TableBody>
    </Table>
  );
}

/**
 * Picks a namespace size tier and shows the quota and container limits it
 * implies.
 *
 * @public
 */
export function KmpSizeTierPicker(props: FieldExtensionComponentProps<string>) {
  const {
    onChange,
    schema: { title = 'Size tier', description },
    required,
    rawErrors,
    formData,
    idSchema,
  } = props;
  const { tiers, defaultTier } = useSizeTiers();
  const selected = tiers.find(t => t.name === formData);
  const id = idSchema?.$id ?? 'kmp-size-tier-picker';

  // Start with the platform's default tier.
  useEffect(() => {
    if (!formData && defaultTier && tiers.some(t => t.name === defaultTier)) {
      onChange(defaultTier);
    }
  }, [formData, defaultTier, tiers, onChange]);

  if (tiers.length === 0) {
    return (
      <Typography color="error">
        No size tiers are configured (kmp.goldenPaths.sizeTiers).
      </Typography>
    );
  }

  return (
    <FormControl
      fullWidth
      margin="normal"
      required={required}
      error={(rawErrors?.length ?? 0) > 0}
    >
      <InputLabel id={`${id}-label`}>{title}</InputLabel>
      <Select
        labelId={`${id}-label`}
        id={id}
        value={formData ?? ''}
        onChange={e => onChange(String(e.target.value))}
      >
        {tiers.map(t => (
          <MenuItem key={t.name} value={t.name}>
            {t.title ?? t.name}
          </MenuItem>
        ))}
      </Select>
      <FormHelperText>
        {selected?.description ??
          description ??
          'The quota and default limits the namespace gets.'}
      </FormHelperText>
      {selected && <QuotaTable tier={selected} />}
    </FormControl>
  );
}
