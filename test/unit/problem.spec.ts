import { HttpException, NotFoundException } from '@nestjs/common';
import { AppError, ErrorCode } from '../../src/common/app-error.js';
import { fieldError } from '../../src/common/field-error.js';
import { problemOf, toProblem } from '../../src/http/problem.js';

describe(toProblem.name, () => {
  it('should map every error code to a status, title and type', () => {
    for (const code of Object.values(ErrorCode)) {
      const problem = problemOf(code, 'd');
      expect(problem.status).toBeGreaterThanOrEqual(400);
      expect(problem.title.length).toBeGreaterThan(0);
      expect(problem.type).toBe(`urn:saga-orchestrator:problem:${code.toLowerCase().replace(/_/g, '-')}`);
    }
  });

  it('should carry an AppError code, message and details', () => {
    const { problem, unexpected } = toProblem(new AppError(ErrorCode.DEFINITION_DISABLED, 'off', { definition: 'x' }));
    expect(unexpected).toBe(false);
    expect(problem).toMatchObject({ status: 409, code: 'DEFINITION_DISABLED', detail: 'off', definition: 'x' });
  });

  it('should unwrap the Fastify error Nest wraps in an HttpException', () => {
    const cause = Object.assign(new Error('too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
    const { problem } = toProblem(new HttpException('too large', 413, { cause }));
    expect(problem).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('should map an unknown route to ROUTE_NOT_FOUND', () => {
    expect(toProblem(new NotFoundException('Cannot GET /x')).problem).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND' });
  });

  it('should keep the status of any other framework 4xx instead of answering 500', () => {
    const { problem, unexpected } = toProblem(new HttpException('a teapot', 418));
    expect(unexpected).toBe(false);
    expect(problem).toMatchObject({ status: 418, code: 'REQUEST_REJECTED', detail: 'a teapot' });
    expect(toProblem(new HttpException('slow down', 429)).problem).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
  });

  it('should map an unreachable database to 503, not 500', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(toProblem(error).problem).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(toProblem({ driverError: { code: '57P01' } }).problem.status).toBe(503);
    // node-postgres's own errors, without a code, for a connection that ended under a query.
    for (const message of ['Connection terminated unexpectedly', 'Connection terminated', 'Client has encountered a connection error and is not queryable']) {
      expect(toProblem(new Error(message)).problem.status).toBe(503);
      expect(toProblem({ driverError: new Error(message) }).problem.status).toBe(503);
    }
    expect(toProblem(new Error('Connection terminated by the participant')).problem.status).toBe(500);
  });

  it('should map a value Postgres refused (SQLSTATE class 22 or 54) to 400, flagged for the log', () => {
    const { problem, unexpected } = toProblem({ driverError: { code: '22P05', message: 'unsupported Unicode escape sequence' } });
    expect(problem).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(unexpected).toBe(true);
    expect(toProblem(Object.assign(new Error('stack depth'), { code: '54001' })).problem.status).toBe(400);
  });

  it('should map Fastify\'s router errors to problems: 414 for an over-long segment, 400 for a bad escape', () => {
    const long = Object.assign(new Error('x'), { code: 'FST_ERR_MAX_PARAM_LENGTH', statusCode: 414 });
    expect(toProblem(long).problem).toMatchObject({ status: 414, code: 'URI_TOO_LONG' });
    const bad = Object.assign(new Error('x'), { code: 'FST_ERR_BAD_URL', statusCode: 400 });
    expect(toProblem(bad).problem).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST', detail: expect.stringMatching(/percent-escape/) });
  });

  it('should map anything else to 500 INTERNAL, flagged unexpected, without leaking the message', () => {
    const { problem, unexpected } = toProblem(new TypeError('secret internals'));
    expect(unexpected).toBe(true);
    expect(problem).toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(JSON.stringify(problem)).not.toContain('secret internals');
  });
});

describe(fieldError.name, () => {
  it('should format indexes with brackets and pointers per RFC 6901', () => {
    expect(fieldError(['steps', 1, 'action', 'url'], 'm')).toEqual({ path: 'steps[1].action.url', pointer: '/steps/1/action/url', message: 'm' });
    expect(fieldError(['headers', 'a/b~c'], 'm').pointer).toBe('/headers/a~1b~0c');
  });
});
