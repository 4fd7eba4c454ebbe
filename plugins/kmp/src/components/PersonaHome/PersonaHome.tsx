import {
  EmptyState,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { PERSONA_INFO } from '@kmp/plugin-kmp-common';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { kmpApiRef } from '../../api';
import { DeveloperHome } from './DeveloperHome';
import { EdgeHome } from './EdgeHome';
import { OpsHome } from './OpsHome';
import {
  displayNameOf,
  PersonaScope,
  personaScopes,
  teamsOf,
} from './personas';
import { PlatformHome } from './PlatformHome';

/**
 * The KMP part of the home page: what the signed-in user works on, by the
 * personas KMP derives from their groups (`GET /api/kmp/me`). A user with
 * several personas (developer for one group, ops for another) sees each
 * section. It only arranges the page; the backend refuses what a persona
 * may not do whatever the page shows.
 *
 * @public
 */
export function PersonaHome() {
  const kmpApi = useApi(kmpApiRef);
  const {
    value: me,
    loading,
    error,
  } = useAsync(() => kmpApi.getMe(), [kmpApi]);

  if (loading) return <Progress />;
  if (error) return <ResponseErrorPanel error={error} />;
  if (!me) return null;

  const scopes = personaScopes(me);
  const teams = teamsOf(me);
  const section = (scope: PersonaScope) => {
    switch (scope.persona) {
      case 'developer':
        return (
          <DeveloperHome
            environmentGroups={scope.environmentGroups}
            teams={teams}
            ownershipRefs={me.ownershipRefs}
          />
        );
      case 'ops':
        return <OpsHome environmentGroups={scope.environmentGroups} />;
      case 'platform-engineer':
        return <PlatformHome environmentGroups={scope.environmentGroups} />;
      case 'edge-operator':
        return <EdgeHome environmentGroups={scope.environmentGroups} />;
      default:
        return null;
    }
  };

  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <Typography variant="h4" component="h2">
          Welcome, {displayNameOf(me.user)}
        </Typography>
        <Box mt={1} aria-label="Your personas">
          {scopes.map(scope => (
            <Chip
              key={scope.persona}
              label={`${
                PERSONA_INFO[scope.persona].title
              } · ${scope.environmentGroups.join(', ')}`}
              title={PERSONA_INFO[scope.persona].description}
              style={{ marginRight: 8 }}
            />
          ))}
        </Box>
      </Grid>
      {scopes.length === 0 && (
        <Grid item xs={12}>
          <EmptyState
            missing="info"
            title="No KMP persona yet"
            description="Your groups give you no persona in any environment group. Ask the platform team to add your team to an environment group."
          />
        </Grid>
      )}
      {scopes.map(scope => (
        <Grid item xs={12} key={scope.persona}>
          {section(scope)}
        </Grid>
      ))}
    </Grid>
  );
}
