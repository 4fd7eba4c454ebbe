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
  };
}
