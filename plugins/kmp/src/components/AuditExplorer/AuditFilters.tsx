import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import { useEffect, useState } from 'react';
import useDebounce from 'react-use/esm/useDebounce';
import { AuditFilter, fromLocalInput, toLocalInput } from './filters';

const TEXT_FIELDS = [
  { key: 'actor', label: 'Actor', placeholder: 'user:default/alice' },
  {
    key: 'action',
    label: 'Action',
    placeholder: 'proxy.* or cluster.register',
  },
  { key: 'cluster', label: 'Cluster', placeholder: 'payments-dev-eu1' },
] as const;

type TextKey = (typeof TEXT_FIELDS)[number]['key'];

/** Typing settles for this long before the table asks the backend again. */
const DEBOUNCE_MS = 400;

/**
 * The filter form. Text fields apply once typing settles; selects and the
 * time range apply at once.
 */
export function AuditFilters(props: {
  filter: AuditFilter;
  onChange: (filter: AuditFilter) => void;
  /** The actor is the viewer and cannot be changed (developers). */
  lockedActor?: boolean;
}) {
  const { filter, onChange, lockedActor } = props;
  const [text, setText] = useState<Record<TextKey, string>>({
    actor: filter.actor ?? '',
    action: filter.action ?? '',
    cluster: filter.cluster ?? '',
  });

  // Follow outside changes (clear, back button) of the applied filter.
  useEffect(() => {
    setText({
      actor: filter.actor ?? '',
      action: filter.action ?? '',
      cluster: filter.cluster ?? '',
    });
  }, [filter.actor, filter.action, filter.cluster]);

  useDebounce(
    () => {
      const next = { ...filter };
      let changed = false;
      for (const { key } of TEXT_FIELDS) {
        const value = text[key].trim() || undefined;
        if (value !== filter[key]) {
          next[key] = value;
          changed = true;
        }
      }
      if (changed) onChange(next);
    },
    DEBOUNCE_MS,
    [text],
  );

  const set = (key: keyof AuditFilter, value: string | undefined) =>
    onChange({ ...filter, [key]: value || undefined });

  return (
    <Grid container spacing={2} alignItems="center">
      {TEXT_FIELDS.map(field => (
        <Grid item xs={12} sm={6} md={3} key={field.key}>
          <TextField
            fullWidth
            size="small"
            variant="outlined"
            id={`kmp-audit-filter-${field.key}`}
            label={field.label}
            placeholder={field.placeholder}
            value={text[field.key]}
            disabled={lockedActor && field.key === 'actor'}
            helperText={
              lockedActor && field.key === 'actor'
                ? 'Developers see their own actions'
                : undefined
            }
            onChange={e =>
              setText(prev => ({ ...prev, [field.key]: e.target.value }))
            }
          />
        </Grid>
      ))}
      <Grid item xs={6} sm={3} md={1}>
        <TextField
          select
          fullWidth
          size="small"
          variant="outlined"
          id="kmp-audit-filter-decision"
          label="Decision"
          value={filter.decision ?? ''}
          onChange={e => set('decision', e.target.value)}
        >
          <MenuItem value="">Any</MenuItem>
          <MenuItem value="allow">allow</MenuItem>
          <MenuItem value="deny">deny</MenuItem>
        </TextField>
      </Grid>
      <Grid item xs={6} sm={3} md={2}>
        <TextField
          select
          fullWidth
          size="small"
          variant="outlined"
          id="kmp-audit-filter-outcome"
          label="Outcome"
          value={filter.outcome ?? ''}
          onChange={e => set('outcome', e.target.value)}
        >
          <MenuItem value="">Any</MenuItem>
          <MenuItem value="success">success</MenuItem>
          <MenuItem value="failure">failure</MenuItem>
          <MenuItem value="pending">pending</MenuItem>
        </TextField>
      </Grid>
      <Grid item xs={12} sm={6} md={3}>
        <TextField
          fullWidth
          size="small"
          variant="outlined"
          type="datetime-local"
          id="kmp-audit-filter-from"
          label="From"
          InputLabelProps={{ shrink: true }}
          value={toLocalInput(filter.from)}
          onChange={e => set('from', fromLocalInput(e.target.value))}
        />
      </Grid>
      <Grid item xs={12} sm={6} md={3}>
        <TextField
          fullWidth
          size="small"
          variant="outlined"
          type="datetime-local"
          id="kmp-audit-filter-to"
          label="To"
          InputLabelProps={{ shrink: true }}
          value={toLocalInput(filter.to)}
          onChange={e => set('to', fromLocalInput(e.target.value))}
        />
      </Grid>
      <Grid item>
        <Button
          onClick={() => onChange(lockedActor ? { actor: filter.actor } : {})}
          disabled={Object.values(filter).every(v => !v)}
        >
          Clear filters
        </Button>
      </Grid>
    </Grid>
  );
}
