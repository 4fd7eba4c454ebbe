import {
  breakGlassListQuerySchema,
  breakGlassRequestInputSchema,
  breakGlassRequestSchema,
  breakGlassStateSchema,
  breakGlassStepResultSchema,
} from '@kmp/plugin-kmp-common';
import { z } from 'zod';
import { breakGlassPaths, breakGlassSchemas } from './openapi';

/** Field names of a zod object, and those it requires. */
const fieldsOf = (schema: z.ZodObject) => ({
  properties: Object.keys(schema.shape).sort(),
  required: Object.entries(schema.shape)
    .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
    .map(([name]) => name)
    .sort(),
});

const openApiFieldsOf = (schema: {
  properties: object;
  required: readonly string[];
}) => ({
  properties: Object.keys(schema.properties).sort(),
  required: [...schema.required].sort(),
});

describe('break-glass OpenAPI document', () => {
  it('describes the same request and step result as the common schemas', () => {
    expect(openApiFieldsOf(breakGlassSchemas.BreakGlassRequest)).toEqual(
      fieldsOf(breakGlassRequestSchema),
    );
    expect(openApiFieldsOf(breakGlassSchemas.BreakGlassStepResult)).toEqual(
      fieldsOf(breakGlassStepResultSchema),
    );
    expect(breakGlassSchemas.BreakGlassRequest.properties.state.enum).toEqual(
      breakGlassStateSchema.options,
    );
  });

  it('describes the same request body and list query as the common schemas', () => {
    const body =
      breakGlassPaths['/break-glass/requests'].post.requestBody.content[
        'application/json'
      ].schema;
    expect(openApiFieldsOf(body)).toEqual(
      fieldsOf(breakGlassRequestInputSchema),
    );
    expect(body.additionalProperties).toBe(false);

    const parameters = breakGlassPaths['/break-glass/requests'].get.parameters;
    expect(parameters.map(p => p.name).sort()).toEqual(
      Object.keys(breakGlassListQuerySchema.shape).sort(),
    );
    expect(parameters.find(p => p.name === 'state')?.schema).toMatchObject({
      enum: breakGlassStateSchema.options,
    });
  });
});
