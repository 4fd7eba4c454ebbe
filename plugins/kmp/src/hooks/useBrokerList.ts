import { useApi } from '@backstage/core-plugin-api';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { KmpBrokerError, kmpApiRef } from '../api';

/** A Kubernetes `…List` as the API server returns it. */
export interface KubernetesList<T> {
  items: T[];
}

const isNotFound = (e: unknown) =>
  e instanceof KmpBrokerError && e.statusCode === 404;

/**
 * Reads Kubernetes lists through the broker as the signed-in user and
 * concatenates them (one path, or one per namespace for viewers who may
 * only read their team's namespaces). With `optional`, a path whose API or
 * namespace does not exist (404) contributes nothing, and when no path
 * exists at all the answer is `undefined` (e.g. a CRD not installed).
 */
export function useBrokerList<T>(
  cluster: string,
  paths: string | string[] | undefined,
  options: { optional?: boolean } = {},
) {
  const kmpApi = useApi(kmpApiRef);
  const { optional } = options;
  const list = paths === undefined ? [] : [paths].flat();
  const key = list.join('\n');
  return useAsyncRetry(async (): Promise<T[] | undefined> => {
    if (list.length === 0) return undefined;
    const results = await Promise.all(
      list.map(path =>
        kmpApi
          .proxyJson<KubernetesList<T>>(cluster, path)
          .then(r => r.body.items ?? [])
          .catch(e => {
            if (optional && isNotFound(e)) return undefined;
            throw e;
          }),
      ),
    );
    if (results.every(r => r === undefined)) return undefined;
    return results.flatMap(r => r ?? []);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [kmpApi, cluster, key, optional]);
}
