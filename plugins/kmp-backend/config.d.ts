export interface Config {
  /** Configuration of the Kubernetes Management Platform (KMP) plugins. */
  kmp?: {
    /**
     * Environment groups: fleet segments by environment, geography or
     * function. Personas are granted per environment group.
     */
    environmentGroups?: Array<{
      /** DNS-1123 label, e.g. `payments-prod`. */
      name: string;
      title?: string;
      description?: string;
      /** One of `production`, `non-production`, `edge`. */
      environment: string;
      /** Entity ref of the owning group, e.g. `group:default/platform-team`. */
      owner: string;
    }>;

    /** Cluster registry settings. */
    registry?: {
      /**
       * Secret (at least 32 characters of random data) from which the key
       * that encrypts cluster credentials at rest is derived.
       * @visibility secret
       */
      encryptionKey?: string;
      /** Allow plain-http cluster URLs (allow-listed hosts only). Default false. */
      allowInsecureHttp?: boolean;
      /**
       * Hostname patterns (`localhost`, `*.corp.example.com`) or CIDRs
       * (`10.20.0.0/16`) cluster URLs may point at although they are not
       * publicly routable.
       */
      allowedClusterHosts?: string[];
      /** The metadata refresh loop. */
      refresh?: {
        /** Seconds between refreshes of the fleet. Default 30. */
        intervalSeconds?: number;
        /** Deadline of one cluster's refresh. Default 10. */
        timeoutSeconds?: number;
        /** Clusters refreshed at once. Default 16. */
        concurrency?: number;
        /** Failed refreshes in a row before a cluster is unreachable. Default 2. */
        unreachableAfter?: number;
      };
    };

    /** Cluster profiles: the standards clusters are built and governed to. */
    profiles?: Array<{
      name: string;
      title?: string;
      description?: string;
      /** One of `production`, `non-production`, `edge`. */
      environment: string;
      /** One of `privileged`, `baseline`, `restricted`. */
      podSecurity: string;
      policyOverlays?: string[];
    }>;

    /** Clusters declared in configuration. */
    clusters?: Array<{
      name: string;
      title?: string;
      description?: string;
      environmentGroup: string;
      region: string;
      profile: string;
      distribution?: string;
      /** One of `direct` (default), `edge`, `edge-async`. */
      connectivity?: string;
      owner: string;
      apiServerUrl?: string;
      labels?: { [key: string]: string };
      /** Credentials, usually by reference: `token: ${CLUSTER_TOKEN}`. */
      credentials?: {
        /** @visibility secret */
        token?: string;
        /** @visibility secret */
        clientCertificate?: string;
        /** @visibility secret */
        clientKey?: string;
        certificateAuthority?: string;
        skipTlsVerify?: boolean;
      };
    }>;

    /** The catalog module that publishes the registry. */
    catalog?: {
      /** Set to false to stop publishing clusters. Default true. */
      enabled?: boolean;
      /** Seconds between full syncs. Default 600. */
      fullSyncSeconds?: number;
      /** Seconds between delta syncs. Default 2. */
      deltaSyncSeconds?: number;
      /** `kubernetes.io/auth-provider` of published clusters. Default `kmp`. */
      authProvider?: string;
      /** Base64 PEM of the broker URL's CA, when it is served over https. */
      brokerCertificateAuthority?: string;
    };
  };
}
