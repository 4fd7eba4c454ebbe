export interface Config {
  kmp?: {
    /**
     * The persona RBAC mapper: members of an identity-provider group (as it
     * appears among a user's ownership refs, e.g.
     * `group:default/team-payments`) hold a persona in the given
     * environment groups (all of them when omitted). The persona matrix
     * (PERSONAS.md) decides what each persona may do per environment.
     */
    personas?: Array<{
      /** Entity ref of the group. */
      group: string;
      /** developer, ops, platform-engineer or edge-operator. */
      persona: 'developer' | 'ops' | 'platform-engineer' | 'edge-operator';
      /** Environment group names; default: every environment group. */
      environmentGroups?: string[];
    }>;
  };
}
