/** OpenAPI paths and schemas of the audit domain. */

const filterParameters = [
  {
    name: 'actor',
    in: 'query',
    allowReserved: true,
    description: 'Entity ref or service subject of the actor, exact match.',
    schema: { type: 'string', minLength: 1, maxLength: 512 },
  },
  {
    name: 'actorType',
    in: 'query',
    schema: {
      type: 'string',
      enum: ['human', 'service', 'gitops', 'break-glass'],
    },
  },
  {
    name: 'cluster',
    in: 'query',
    allowReserved: true,
    schema: { type: 'string', minLength: 1, maxLength: 63 },
  },
  {
    name: 'namespace',
    in: 'query',
    allowReserved: true,
    schema: { type: 'string', minLength: 1, maxLength: 253 },
  },
  {
    name: 'action',
    in: 'query',
    allowReserved: true,
    description:
      'Dotted action name, exact match, or a prefix when it ends with `.*` (`proxy.*`).',
    schema: { type: 'string', minLength: 1, maxLength: 128 },
  },
  {
    name: 'decision',
    in: 'query',
    schema: { type: 'string', enum: ['allow', 'deny'] },
  },
  {
    name: 'outcome',
    in: 'query',
    schema: { type: 'string', enum: ['success', 'failure', 'pending'] },
  },
  {
    name: 'correlationId',
    in: 'query',
    allowReserved: true,
    schema: { type: 'string', minLength: 1, maxLength: 128 },
  },
  {
    name: 'from',
    in: 'query',
    allowReserved: true,
    description: 'Events at or after this time (RFC 3339).',
    schema: { type: 'string', format: 'date-time' },
  },
  {
    name: 'to',
    in: 'query',
    allowReserved: true,
    description: 'Events before this time (RFC 3339).',
    schema: { type: 'string', format: 'date-time' },
  },
  {
    name: 'order',
    in: 'query',
    description: 'By seq: `desc` (newest first, the default) or `asc`.',
    schema: { type: 'string', enum: ['asc', 'desc'] },
  },
] as const;

const errorResponse = { $ref: '#/components/responses/ErrorResponse' } as const;

export const auditPaths = {
  '/audit/events': {
    get: {
      operationId: 'ListAuditEvents',
      description:
        'Lists audit events matching the filters, one page at a time. Requires kmp.audit.read.',
      security: [{}, { JWT: [] }],
      parameters: [
        ...filterParameters,
        {
          name: 'limit',
          in: 'query',
          description: 'Page size, 1 to 1000; 100 by default.',
          schema: { type: 'integer', minimum: 1, maximum: 1000 },
        },
        {
          name: 'cursor',
          in: 'query',
          description: 'The nextCursor of the previous page.',
          schema: { type: 'string', minLength: 1, maxLength: 64 },
        },
      ],
      responses: {
        '200': {
          description: 'A page of events.',
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/AuditEventPage' },
            },
          },
        },
        default: errorResponse,
      },
    },
  },
  '/audit/events/export': {
    get: {
      operationId: 'ExportAuditEvents',
      description:
        'Streams every event matching the filters as NDJSON or CSV, in seq order (ascending unless order=desc). Requires kmp.audit.read.',
      security: [{}, { JWT: [] }],
      parameters: [
        ...filterParameters,
        {
          name: 'format',
          in: 'query',
          description: '`ndjson` (default) or `csv`.',
          schema: { type: 'string', enum: ['ndjson', 'csv'] },
        },
      ],
      responses: {
        '200': {
          description: 'The events, streamed.',
          content: {
            'application/x-ndjson': {
              schema: { type: 'string' },
            },
            'text/csv': {
              schema: { type: 'string' },
            },
          },
        },
        default: errorResponse,
      },
    },
  },
  '/audit/verify': {
    get: {
      operationId: 'VerifyAuditChain',
      description:
        'Recomputes the hash chain from the latest signed checkpoint to the head and reports the first edited, deleted or reordered event. Requires kmp.audit.read.',
      security: [{}, { JWT: [] }],
      responses: {
        '200': {
          description: 'The verdict.',
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/AuditVerifyResult' },
            },
          },
        },
        default: errorResponse,
      },
    },
  },
  '/audit/sinks': {
    get: {
      operationId: 'ListAuditSinks',
      description:
        'Delivery status of each configured SIEM sink. Requires kmp.audit.read.',
      security: [{}, { JWT: [] }],
      responses: {
        '200': {
          description: 'The sinks, by name.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  items: {
                    type: 'array',
                    items: { $ref: '#/components/schemas/AuditSinkStatus' },
                  },
                },
                required: ['items'],
              },
            },
          },
        },
        default: errorResponse,
      },
    },
  },
} as const;

export const auditSchemas = {
  AuditEvent: {
    type: 'object',
    description:
      'One audit event (see auditEventSchema in @kmp/plugin-kmp-common) with its chain position.',
    properties: {
      seq: { type: 'integer' },
      hash: { type: 'string' },
      id: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      actor: {
        type: 'object',
        properties: {
          type: {
            type: 'string',
            enum: ['human', 'service', 'gitops', 'break-glass'],
          },
          ref: { type: 'string' },
          persona: { type: 'string' },
          ip: { type: 'string' },
          userAgent: { type: 'string' },
        },
        required: ['type', 'ref'],
      },
      action: { type: 'string' },
      target: {
        type: 'object',
        properties: {
          cluster: { type: 'string' },
          environmentGroup: { type: 'string' },
          namespace: { type: 'string' },
          resource: { type: 'object', additionalProperties: true },
        },
      },
      decision: {
        type: 'object',
        properties: {
          result: { type: 'string', enum: ['allow', 'deny'] },
          reason: { type: 'string' },
        },
        required: ['result'],
      },
      outcome: { type: 'string', enum: ['success', 'failure', 'pending'] },
      correlationId: { type: 'string' },
      request: { type: 'object', additionalProperties: true },
      response: { type: 'object', additionalProperties: true },
      source: { type: 'string' },
      severity: { type: 'string' },
      details: { type: 'object', additionalProperties: true },
    },
    required: [
      'seq',
      'hash',
      'id',
      'time',
      'actor',
      'action',
      'target',
      'decision',
      'outcome',
      'correlationId',
    ],
  },
  AuditEventPage: {
    type: 'object',
    properties: {
      items: {
        type: 'array',
        items: { $ref: '#/components/schemas/AuditEvent' },
      },
      nextCursor: { type: 'string' },
    },
    required: ['items'],
  },
  AuditVerifyResult: {
    type: 'object',
    properties: {
      valid: { type: 'boolean' },
      checked: { type: 'integer' },
      headSeq: { type: 'integer' },
      checkpointSeq: { type: 'integer' },
      firstInvalidSeq: { type: 'integer' },
      reason: { type: 'string' },
    },
    required: ['valid', 'checked', 'headSeq'],
  },
  AuditSinkStatus: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      kind: { type: 'string' },
      state: {
        type: 'string',
        enum: ['idle', 'healthy', 'retrying', 'failing'],
      },
      cursor: { type: 'integer', description: 'Highest seq delivered.' },
      lag: { type: 'integer', description: 'Events waiting for delivery.' },
      oldestPendingTime: { type: 'string', format: 'date-time' },
      consecutiveFailures: { type: 'integer' },
      lastError: { type: 'string' },
      lastErrorAt: { type: 'string', format: 'date-time' },
      lastSuccessAt: { type: 'string', format: 'date-time' },
      deliveredCount: { type: 'integer' },
    },
    required: ['name', 'kind', 'state', 'cursor', 'lag'],
  },
} as const;
