import {
  EmptyState,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { RegisteredCluster } from '@kmp/plugin-kmp-common';
import { createContext, ReactNode, useContext } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { kmpApiRef } from '../../api';
import {
  kmpClusterNameOf,
  KmpPermissions,
  useKmpPermissions,
} from '../../hooks';

/** The cluster a cluster page shows and what the viewer may do on it. */
export interface KmpClusterContextValue {
  cluster: RegisteredCluster;
  permissions: KmpPermissions;
  /** Reloads the registry record. */
  reload(): void;
}

const KmpClusterContext = createContext<KmpClusterContextValue | undefined>(
  undefined,
);

/** The cluster of the surrounding {@link KmpClusterProvider}. */
export function useKmpCluster(): KmpClusterContextValue {
  const value = useContext(KmpClusterContext);
  if (!value) {
    throw new Error('useKmpCluster must be used inside a KmpClusterProvider');
  }
  return value;
}

function ClusterPermissions(props: {
  cluster: RegisteredCluster;
  reload(): void;
  children: ReactNode;
}) {
  const permissions = useKmpPermissions(props.cluster);
  return (
    <KmpClusterContext.Provider
      value={{ cluster: props.cluster, permissions, reload: props.reload }}
    >
      {props.children}
    </KmpClusterContext.Provider>
  );
}

/**
 * Loads a cluster from the KMP registry and provides it, with the viewer's
 * permissions, to the cards inside.
 */
export function KmpClusterProvider(props: {
  name: string;
  children: ReactNode;
}) {
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error, retry } = useAsyncRetry(
    () => kmpApi.getCluster(props.name),
    [kmpApi, props.name],
  );
  if (loading && !value) return <Progress />;
  if (error) return <ResponseErrorPanel error={error} />;
  if (!value) return null;
  return (
    <ClusterPermissions cluster={value} reload={retry}>
      {props.children}
    </ClusterPermissions>
  );
}

/**
 * {@link KmpClusterProvider} for the cluster of the current catalog entity,
 * found by its `kmp.backstage.io/cluster` annotation.
 */
export function EntityKmpClusterProvider(props: { children: ReactNode }) {
  const { entity } = useEntity();
  const name = kmpClusterNameOf(entity);
  if (!name) {
    return (
      <EmptyState
        missing="field"
        title="Not a KMP cluster"
        description="This cluster entity carries no kmp.backstage.io/cluster annotation: KMP does not manage it. Register the cluster with KMP to see it here."
      />
    );
  }
  return <KmpClusterProvider name={name}>{props.children}</KmpClusterProvider>;
}
