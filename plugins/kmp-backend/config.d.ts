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

    /** Policy governance: the CEL policy bundle, its distribution and compliance. */
    policy?: {
      /**
       * Directory of the policy bundle (baseline.yaml, overlays/, groups/).
       * Default: the bundle shipped with the plugin.
       */
      bundleDir?: string;
      /**
       * Enforcement of rules that do not set their own, per environment:
       * `Deny`, `Warn` or `Audit`. Production always denies.
       */
      enforcement?: {
        'non-production'?: 'Deny' | 'Warn' | 'Audit';
        edge?: 'Deny' | 'Warn' | 'Audit';
      };
      limits?: {
        /** Manifests one evaluate request may carry. Default 500. */
        maxManifests?: number;
      };
      distribution?: {
        /** `apply` (server-side apply to the cluster, default) or `gitops`. */
        mode?: 'apply' | 'gitops';
        /**
         * Local GitOps working tree the rendered bundles are written to, per
         * cluster, when the cluster's environment group has no GitOps
         * repository in kmp.goldenPaths.gitops.repositories (which is
         * preferred: the bundle is then committed and pushed).
         */
        gitopsDir?: string;
        /**
         * Folder of a cluster's policies in its environment group's GitOps
         * repository; `{cluster}` and `{environmentGroup}` are replaced.
         * Default `clusters/{cluster}/kmp-policies`.
         */
        gitopsPath?: string;
      };
      compliance?: {
        /** Scheduled drift checks and compliance scans. Default true. */
        enabled?: boolean;
        /** Seconds between fleet scans. Default 300. */
        intervalSeconds?: number;
        /** Clusters scanned at once. Default 4. */
        concurrency?: number;
        /** Deadline of one request to a cluster. Default 30. */
        timeoutSeconds?: number;
      };
    };

    /** The access broker: the one governed path into every cluster. */
    broker?: {
      /**
       * The broker's URL as clients reach it (kubeconfig `server`, catalog
       * `kubernetes.io/api-server`), e.g. `https://kmp.example.com/api/kmp`.
       * Default: the plugin's external base URL.
       */
      externalUrl?: string;
      /**
       * Service subjects (e.g. `external:argocd`) or user refs of the GitOps
       * engine: the only writers of production configuration.
       */
      gitopsIdentities?: string[];
      /** How long a cluster's registry record is reused, in ms. Default 1000. */
      clusterCacheMs?: number;
      /** Largest request body accepted, in bytes. Default 3 MiB. */
      maxRequestBodyBytes?: number;
      timeouts?: {
        /** TCP + TLS handshake of a new connection. Default 3000. */
        connectMs?: number;
        /** No response yet: probe with a fresh handshake. Default 2000. */
        stallProbeMs?: number;
        /** Ordinary requests must answer within this. Default 60000. */
        responseMs?: number;
      };
      circuitBreaker?: {
        /** Consecutive connection failures that open it. Default 3. */
        failureThreshold?: number;
        /** How long it answers 503 at once before a trial. Default 10000. */
        coolDownMs?: number;
      };
      /** Just-in-time kubeconfig tokens. */
      tokens?: {
        /** Default 3600 (1 h). */
        defaultTtlSeconds?: number;
        /** Default 28800 (8 h). */
        maxTtlSeconds?: number;
      };
    };

    /** Break-glass: time-boxed, four-eyes grants to change production by hand. */
    breakGlass?: {
      /** Longest grant a person may ask for, in seconds. Default 14400 (4 h). */
      maxDurationSeconds?: number;
      /** A request's duration when it names none. Default 3600. */
      defaultDurationSeconds?: number;
      /** How long a request waits for a decision before it lapses. Default 3600. */
      pendingSeconds?: number;
    };

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

    /**
     * Structural alerts (control plane unreachable or unhealthy, nodes not
     * ready, under pressure, cordoned or without network, admission policy
     * drift, certificate expiry, GitOps failures), derived from what
     * the registry and the policy domain observe, and forwarded out of band.
     */
    alerts?: {
      /** Evaluate alert rules on this backend. Default true. */
      enabled?: boolean;
      /** Seconds between evaluations (1 to 3600). Default 60. */
      intervalSeconds?: number;
      /**
       * Per rule: `enabled` (default true) and `forSeconds`, how long the
       * condition must hold before the alert fires. Defaults:
       * clusterUnreachable 0 (the registry already waits for
       * `unreachableAfter` failed probes), controlPlaneUnhealthy 120,
       * nodesNotReady 900, policyDrift 1800, certificateExpiry 0,
       * gitopsReconciliation 600 (a Flux or Argo CD object failing),
       * gitopsDrift 1800 (an Argo CD application out of sync),
       * nodePressure 600 (a node reports Memory, Disk or PID pressure),
       * nodesUnschedulable 3600 (a node is cordoned; maintenance cordons
       * are normal for a while), nodeNetworkUnavailable 300 (a node reports
       * NetworkUnavailable: its CNI is not set up).
       */
      rules?: {
        clusterUnreachable?: { enabled?: boolean; forSeconds?: number };
        controlPlaneUnhealthy?: { enabled?: boolean; forSeconds?: number };
        nodesNotReady?: { enabled?: boolean; forSeconds?: number };
        policyDrift?: { enabled?: boolean; forSeconds?: number };
        certificateExpiry?: { enabled?: boolean; forSeconds?: number };
        gitopsReconciliation?: { enabled?: boolean; forSeconds?: number };
        gitopsDrift?: { enabled?: boolean; forSeconds?: number };
        nodePressure?: { enabled?: boolean; forSeconds?: number };
        nodesUnschedulable?: { enabled?: boolean; forSeconds?: number };
        nodeNetworkUnavailable?: { enabled?: boolean; forSeconds?: number };
      };
      /**
       * Expiry of the certificates KMP holds for each cluster (its client
       * certificate and the CA it trusts) and of the certificate each API
       * server presents: an alert from `warnDays`
       * (default 30) before expiry, critical from `criticalDays` (default 7).
       */
      certificates?: { warnDays?: number; criticalDays?: number };
      /**
       * Out-of-band receivers. Each gets every firing and resolved
       * transition at least once, in order; while it is down they wait in
       * the database. A new receiver starts with the transitions after it
       * was added.
       */
      receivers?: Array<{
        /** Unique name; its delivery state is kept under it. */
        name: string;
        /**
         * `alertmanager-webhook` (Alertmanager webhook v4 payloads),
         * `pagerduty-events-v2` or `cloudevents` (CloudEvents 1.0 batch).
         */
        type: 'alertmanager-webhook' | 'pagerduty-events-v2' | 'cloudevents';
        /**
         * The endpoint; https and publicly routable unless allow-listed in
         * `allowedReceiverHosts`. PagerDuty defaults to its Events API.
         */
        url?: string;
        /**
         * Extra request headers (e.g. Authorization). Never logged.
         * @visibility secret
         */
        headers?: { [name: string]: string };
        /**
         * pagerduty-events-v2: the integration's routing key. Never logged.
         * @visibility secret
         */
        routingKey?: string;
        /** Transitions per delivery. Default 50. */
        batchSize?: number;
        /** Deadline of one delivery, in milliseconds. Default 10000. */
        timeoutMs?: number;
        /** First retry delay, doubled per failure with jitter. Default 500. */
        minBackoffMs?: number;
        /** Largest retry delay. Default 60000. */
        maxBackoffMs?: number;
      }>;
      /**
       * Receiver hosts allowed although they resolve to non-public
       * addresses: hostname patterns (`alertmanager.monitoring.svc`,
       * `*.corp.example.com`) or CIDRs.
       */
      allowedReceiverHosts?: string[];
      /** Allow plain http to allow-listed receiver hosts. Default false. */
      allowInsecureHttp?: boolean;
      /** Days delivered transitions stay in the outbox. Default 7. */
      outboxRetentionDays?: number;
    };

    /** The audit trail and its streaming to SIEM. */
    audit?: {
      /**
       * SIEM sinks. Each keeps its own cursor in the database and gets every
       * event at least once, in order, in batches; while it is down events
       * wait in the store.
       */
      sinks?: Array<{
        /** Unique name; its cursor and status are kept under it. */
        name: string;
        /**
         * `http`, `syslog`, `file`, or a kind added by a backend module
         * through `kmpAuditSinksExtensionPoint`.
         */
        kind: string;
        /** Events per delivery. Default 500. */
        batchSize?: number;
        /** Deadline of one delivery, in milliseconds. Default 10000. */
        timeoutMs?: number;
        /** First retry delay, doubled per failure with jitter. Default 500. */
        minBackoffMs?: number;
        /** Largest retry delay. Default 60000. */
        maxBackoffMs?: number;
        /** Where a new sink starts: `beginning` (default) or `end`. */
        startFrom?: 'beginning' | 'end';

        /** http: the endpoint; for `splunk-hec` the HEC base URL. */
        url?: string;
        /** http: `json` (default), `cloudevents` or `splunk-hec`. */
        format?: 'json' | 'cloudevents' | 'splunk-hec';
        /**
         * http `splunk-hec`: the HEC token, usually by reference
         * (`token: ${SPLUNK_HEC_TOKEN}`). Never logged.
         * @visibility secret
         */
        token?: string;
        /**
         * http: extra request headers (e.g. an Authorization for a
         * generic collector). Never logged.
         * @visibility secret
         */
        headers?: { [name: string]: string };
        /** http `splunk-hec`: index. */
        index?: string;
        /** http `splunk-hec` / `cloudevents`: event source. */
        source?: string;
        /** http `splunk-hec`: sourcetype. Default `kmp:audit`. */
        sourcetype?: string;
        /** http `cloudevents`: event type. Default `io.kmp.audit.event.v1`. */
        type?: string;

        /** syslog: receiver host (e.g. the Sentinel agent). */
        host?: string;
        /** syslog: receiver port. */
        port?: number;
        /** syslog: `tcp` (default) or `tls`; both use octet-counting framing. */
        transport?: 'tcp' | 'tls';
        /** syslog: `cef` (default, for Microsoft Sentinel) or `json`. */
        payload?: 'cef' | 'json';
        /** syslog: facility 0–23. Default 13 (log audit). */
        facility?: number;
        /** syslog: APP-NAME. Default `kmp`. */
        appName?: string;
        /** syslog: HOSTNAME. Default the machine's host name. */
        hostname?: string;

        /** TLS settings of https and syslog-over-TLS receivers. */
        tls?: {
          /** PEM CA bundle to trust. */
          ca?: string;
          /** PEM client certificate, for mutual TLS. */
          cert?: string;
          /** @visibility secret */
          key?: string;
          servername?: string;
          /** Default true. */
          rejectUnauthorized?: boolean;
        };

        /** file: the NDJSON file to append to. */
        path?: string;
      }>;

      /** Age-based pruning, keeping the chain verifiable. */
      retention?: {
        /** How long events are kept, e.g. `{ days: 400 }` or `P400D`. */
        maxAge?: { [unit: string]: number } | string;
        /**
         * HMAC-SHA256 key (at least 32 characters) that signs the
         * checkpoints replacing pruned events; required with maxAge.
         * @visibility secret
         */
        checkpointKey?: string;
        /** Directory pruned events are exported to (NDJSON) first. */
        exportDirectory?: string;
        /** How often pruning runs. Default one hour. */
        frequency?: { [unit: string]: number } | string;
      };

      /** Group commit. */
      writer?: {
        /** Most events per transaction. Default 5000. */
        maxBatchSize?: number;
      };

      /**
       * Append other plugins' Backstage auditor events to the audit stream,
       * when the backend installs `kmpAuditorServiceFactory`. Default true.
       */
      forwardAuditorEvents?: boolean;
    };
  };
}
