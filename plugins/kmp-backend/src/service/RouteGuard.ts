import {
  AuditorService,
  BackstageCredentials,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import {
  AuthorizeResult,
  BasicPermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import { KMP_CLUSTER_RESOURCE_TYPE } from '@kmp/plugin-kmp-common';
import { Request } from 'express';
import { z } from 'zod';

/** The entity ref or service subject that acted. */
export function actorOf(credentials: BackstageCredentials): string {
  const principal = credentials.principal as {
    type: string;
    userEntityRef?: string;
    subject?: string;
  };
  if (principal.type === 'user' && principal.userEntityRef) {
    return principal.userEntityRef;
  }
  if (principal.type === 'service' && principal.subject) {
    return principal.subject;
  }
  return principal.type;
}

/**
 * Parses request input with a zod schema; a failure is an InputError naming
 * the field, e.g. `Invalid request body.name: must be a DNS-1123 label`.
 */
export function parseInput<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: 'body' | 'query' | 'params',
): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issue.path.reduce<string>(
      (acc, part) =>
        typeof part === 'number' ? `${acc}[${part}]` : `${acc}.${String(part)}`,
      where,
    );
    throw new InputError(`Invalid request ${key}: ${issue.message}`);
  }
  return result.data;
}

/**
 * What every KMP route does before and around its work: authenticate the
 * caller, check a permission (basic or on one cluster), and emit an auditor
 * event for writes. One implementation for all domains, so a denial reads
 * the same everywhere.
 */
export class RouteGuard {
  private constructor(
    private readonly httpAuth: HttpAuthService,
    private readonly permissions: PermissionsService,
    private readonly auditor: AuditorService,
  ) {}

  static create(options: {
    httpAuth: HttpAuthService;
    permissions: PermissionsService;
    auditor: AuditorService;
  }) {
    return new RouteGuard(
      options.httpAuth,
      options.permissions,
      options.auditor,
    );
  }

  /** A user or service caller; anything else is a 401. */
  caller(req: Request): Promise<BackstageCredentials> {
    return this.httpAuth.credentials(req, { allow: ['user', 'service'] });
  }

  async authorize(
    credentials: BackstageCredentials,
    permission: BasicPermission,
  ) {
    const [decision] = await this.permissions.authorize([{ permission }], {
      credentials,
    });
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(`not allowed to ${permission.name}`);
    }
  }

  async authorizeCluster(
    credentials: BackstageCredentials,
    permission: ResourcePermission<typeof KMP_CLUSTER_RESOURCE_TYPE>,
    cluster: string,
  ) {
    const [decision] = await this.permissions.authorize(
      [{ permission, resourceRef: cluster }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `not allowed to ${permission.name} on cluster '${cluster}'`,
      );
    }
  }

  /** Runs `fn` inside an auditor event that records success or failure. */
  async audited<T>(
    req: Request,
    credentials: BackstageCredentials,
    eventId: string,
    meta: Record<string, unknown>,
    fn: () => Promise<T>,
  ): Promise<T> {
    const event = await this.auditor.createEvent({
      eventId,
      request: req,
      severityLevel: 'medium',
      meta: { ...meta, actor: actorOf(credentials) },
    });
    try {
      const result = await fn();
      await event.success();
      return result;
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  }
}
