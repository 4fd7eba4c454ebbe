export interface Config {
  kmp?: {
    /** Golden paths: the scaffolder actions and templates of KMP. */
    goldenPaths?: {
      /**
       * Size tiers of tenant namespaces by name (DNS-1123 label): the
       * ResourceQuota (`quota`, i.e. `spec.hard`) and the LimitRange
       * container limits they imply. Default: small, medium and large.
       * Visible to the frontend, whose size-tier picker shows the quota.
       * @visibility frontend
       */
      sizeTiers?: {
        [name: string]: {
          /** @visibility frontend */
          title?: string;
          /** @visibility frontend */
          description?: string;
          /**
           * e.g. `requests.cpu: '2'`, `limits.memory: 8Gi`, `pods: '20'`.
           * @visibility frontend
           */
          quota: { [resource: string]: string };
          /** @visibility frontend */
          limits: {
            /** @visibility frontend */
            defaultRequest: { cpu?: string; memory?: string };
            /** @visibility frontend */
            default: { cpu?: string; memory?: string };
            /** @visibility frontend */
            max?: { cpu?: string; memory?: string };
          };
        };
      };
      /**
       * The tier used when a template names none. Default `small`.
       * @visibility frontend
       */
      defaultSizeTier?: string;
      /**
       * Namespaces whose pods may reach every tenant (the ingress gateway).
       * Default `[gateway-system]`.
       */
      gatewayNamespaces?: string[];
      /**
       * RoleBindings of every tenant namespace: `group` (`{team}` is the
       * owning team) bound to a ClusterRole per environment. Default: the
       * team and ops edit outside production and read in production; edge
       * operators edit on edge.
       */
      roleBindings?: Array<{
        name: string;
        group: string;
        roles: {
          production?: string;
          'non-production'?: string;
          edge?: string;
        };
      }>;
      // `gitops` (the GitOps repositories golden paths publish to) is
      // declared by @kmp/plugin-kmp-node, which reads it for this module and
      // for the KMP backend.
    };
  };
}
