export interface Config {
  kmp?: {
    goldenPaths?: {
      /**
       * GitOps repositories, read by the scaffolder's `kmp:gitops:publish`
       * and the KMP backend's `POST /clusters/{cluster}/gitops/publish`
       * (one implementation: `GitopsPublisher` of `@kmp/plugin-kmp-node`).
       */
      gitops?: {
        /** Committer of published commits (the author is the user). */
        committer?: { name: string; email: string };
        repositories?: Array<{
          /** Environment group whose clusters this repository configures. */
          environmentGroup: string;
          /** http(s) URL, without credentials. */
          url: string;
          /** Base branch. Default `main`. */
          branch?: string;
          /**
           * Folder of one namespace; `{cluster}`, `{environmentGroup}` and
           * `{namespace}` are replaced. Default
           * `clusters/{cluster}/namespaces/{namespace}`.
           */
          path?: string;
          auth?: {
            /** Default `x-access-token`. */
            username?: string;
            /**
             * Password or access token.
             * @visibility secret
             */
            password: string;
          };
        }>;
      };
    };
  };
}
