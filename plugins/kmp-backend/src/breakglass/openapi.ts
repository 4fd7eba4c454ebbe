/**
 * OpenAPI paths and schemas of break-glass: requests, four-eyes decisions,
 * revocation. Every step answers with the id of the KMP audit event that
 * recorded it (`auditId`, and the `kmp-audit-id` header); a refusal (403)
 * names the audit event of the refusal in the header.
 */

import { errorResponse, json } from '../schema/fragments';

const requestIdParam = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'Break-glass request (and grant) id',
  schema: { type: 'string', format: 'uuid' },
} as const;

const oneRequest = {
  description: 'The break-glass request.',
  content: json({ $ref: '#/components/schemas/BreakGlassRequest' }),
} as const;

const auditIdHeader = {
  'kmp-audit-id': {
    description: 'Id of the KMP audit event that recorded the step',
    schema: { type: 'string', format: 'uuid' },
  },
} as const;

/** A step that was taken: the request afterwards and its audit id. */
const stepDone = (description: string) =>
  ({
    description,
    headers: auditIdHeader,
    content: json({ $ref: '#/components/schemas/BreakGlassStepResult' }),
  } as const);

/** A step refused by a rule, recorded in the audit trail. */
const stepRefused = {
  description:
    'Refused, naming the rule (permission policy, four eyes, non-production cluster); the kmp-audit-id header names the audit event of the refusal.',
  headers: auditIdHeader,
  content: json({ $ref: '#/components/schemas/Error' }),
} as const;

const decisionBody = {
  required: false,
  content: json({
    type: 'object',
    properties: { comment: { type: 'string', maxLength: 2000 } },
    additionalProperties: false,
  }),
} as const;

export const breakGlassPaths = {
  '/break-glass/requests': {
    post: {
      operationId: 'RequestBreakGlass',
      description:
        'Asks for a time-boxed break-glass grant to change a production (or edge) cluster by hand, optionally limited to one namespace. Needs kmp.break-glass.request on the cluster; the grant starts when a different person approves it.',
      security: [{}, { JWT: [] }],
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          properties: {
            cluster: {
              type: 'string',
              maxLength: 63,
              pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
            },
            reason: { type: 'string', minLength: 10, maxLength: 2000 },
            durationSeconds: {
              type: 'integer',
              minimum: 60,
              description:
                'Lifetime of the grant from its approval; default kmp.breakGlass.defaultDurationSeconds (1 h), at most maxDurationSeconds (4 h)',
            },
            namespace: {
              type: 'string',
              maxLength: 63,
              description: 'Limit the grant to this namespace',
            },
          },
          required: ['cluster', 'reason'],
          additionalProperties: false,
        }),
      },
      responses: {
        '201': stepDone('The pending request.'),
        '403': stepRefused,
        default: errorResponse,
      },
    },
    get: {
      operationId: 'ListBreakGlassRequests',
      description:
        "The caller's own requests, and — for holders of kmp.break-glass.approve — everybody's pending requests and live grants; newest first.",
      security: [{}, { JWT: [] }],
      parameters: [
        {
          name: 'state',
          in: 'query',
          required: false,
          schema: {
            type: 'string',
            enum: ['pending', 'approved', 'denied', 'revoked', 'expired'],
          },
        },
        {
          name: 'cluster',
          in: 'query',
          required: false,
          schema: { type: 'string', maxLength: 63 },
        },
        {
          name: 'limit',
          in: 'query',
          required: false,
          schema: { type: 'integer', minimum: 1, maximum: 500 },
        },
      ],
      responses: {
        '200': {
          description: 'The requests.',
          content: json({
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: { $ref: '#/components/schemas/BreakGlassRequest' },
              },
            },
            required: ['items'],
          }),
        },
        default: errorResponse,
      },
    },
  },
  '/break-glass/requests/{id}': {
    get: {
      operationId: 'GetBreakGlassRequest',
      description:
        "One request: the caller's own, or any for holders of kmp.break-glass.approve.",
      security: [{}, { JWT: [] }],
      parameters: [requestIdParam],
      responses: { '200': oneRequest, default: errorResponse },
    },
  },
  '/break-glass/requests/{id}/approve': {
    post: {
      operationId: 'ApproveBreakGlassRequest',
      description:
        'Approves a pending request: the grant lives from now for its duration. Needs kmp.break-glass.approve and a different person than the requester (refused with 403 otherwise, whatever the permission policy says).',
      security: [{}, { JWT: [] }],
      parameters: [requestIdParam],
      requestBody: decisionBody,
      responses: {
        '200': stepDone('The request afterwards.'),
        '403': stepRefused,
        default: errorResponse,
      },
    },
  },
  '/break-glass/requests/{id}/deny': {
    post: {
      operationId: 'DenyBreakGlassRequest',
      description:
        'Denies a pending request. Needs kmp.break-glass.approve and a different person than the requester.',
      security: [{}, { JWT: [] }],
      parameters: [requestIdParam],
      requestBody: decisionBody,
      responses: {
        '200': stepDone('The request afterwards.'),
        '403': stepRefused,
        default: errorResponse,
      },
    },
  },
  '/break-glass/requests/{id}/revoke': {
    post: {
      operationId: 'RevokeBreakGlassRequest',
      description:
        'Ends a live grant, or withdraws a pending request, at once. The requester or a holder of kmp.break-glass.approve may revoke.',
      security: [{}, { JWT: [] }],
      parameters: [requestIdParam],
      requestBody: {
        required: false,
        content: json({
          type: 'object',
          properties: { reason: { type: 'string', maxLength: 2000 } },
          additionalProperties: false,
        }),
      },
      responses: {
        '200': stepDone('The request afterwards.'),
        '403': stepRefused,
        default: errorResponse,
      },
    },
  },
} as const;

const time = { type: 'string', format: 'date-time' } as const;

const requestProperties = {
  id: { type: 'string', format: 'uuid' },
  cluster: { type: 'string' },
  environmentGroup: { type: 'string' },
  namespace: { type: 'string' },
  requester: { type: 'string' },
  reason: { type: 'string' },
  durationSeconds: { type: 'integer' },
  state: {
    type: 'string',
    enum: ['pending', 'approved', 'denied', 'revoked', 'expired'],
  },
  createdAt: time,
  pendingUntil: time,
  decidedBy: { type: 'string' },
  decidedAt: time,
  comment: { type: 'string' },
  expiresAt: time,
  revokedBy: { type: 'string' },
  revokedAt: time,
  revokeReason: { type: 'string' },
} as const;

const requestRequired = [
  'id',
  'cluster',
  'environmentGroup',
  'requester',
  'reason',
  'durationSeconds',
  'state',
  'createdAt',
  'pendingUntil',
] as const;

export const breakGlassSchemas = {
  BreakGlassRequest: {
    type: 'object',
    properties: requestProperties,
    required: requestRequired,
  },
  BreakGlassStepResult: {
    type: 'object',
    description:
      'A break-glass request after a step (request, approve, deny, revoke), with the id of the KMP audit event that recorded the step.',
    properties: {
      ...requestProperties,
      auditId: {
        type: 'string',
        format: 'uuid',
        description: 'Id of the KMP audit event that recorded the step',
      },
    },
    required: [...requestRequired, 'auditId'],
  },
} as const;
