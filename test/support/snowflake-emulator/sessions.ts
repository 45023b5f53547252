/**
 * Sessions of the Snowflake wire emulator (server.ts): password login, the
 * session token that authenticates every later request, token renewal and
 * logout. Each session has its own DuckDB connection and a queue that
 * serialises its statements (queries.ts runs them).
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Engine, EngineConnection } from './engine';
import type { Body } from './wire';

/** A logged-in session: its tokens, what the driver sent at login, and its DuckDB connection. */
export interface Session {
  readonly id: number;
  readonly token: string;
  readonly masterToken: string;
  readonly user: string;
  readonly info: Record<string, string | null>;
  readonly parameters: Record<string, unknown>;
  readonly conn: EngineConnection;
  /** The session's last statement (the next one runs after it). */
  queue: Promise<unknown>;
}

/** The sessions by token. */
export class Sessions {
  private readonly byToken = new Map<string, Session>();
  private nextSession = 1;

  /**
   * `users` maps accepted login names to passwords (undefined: any login name
   * with password `test`); `stats.logins` counts successful logins.
   */
  constructor(
    private readonly engine: Engine,
    private readonly users: Readonly<Record<string, string>> | undefined,
    private readonly stats: { logins: number },
  ) {}

  /**
   * Answers a login-request: a new session with its own DuckDB connection, or
   * 390100 for a wrong login name or password. The session's info comes from
   * the URL's query parameters, its parameters from the body's SESSION_PARAMETERS.
   */
  async login(url: URL, body: Body): Promise<Body> {
    const data = (body.data ?? {}) as Record<string, unknown>;
    const user = String(data.LOGIN_NAME ?? '');
    const password = String(data.PASSWORD ?? '');
    const expected = this.users ? this.users[user] : 'test';
    if (expected === undefined || password !== expected) {
      return {
        success: false,
        code: '390100',
        message: 'Incorrect username or password was specified.',
        data: { nextAction: 'RETRY_LOGIN', authnMethod: 'USERNAME_PASSWORD' },
      };
    }
    this.stats.logins++;
    const session: Session = {
      id: this.nextSession++,
      token: `emu-token-${randomUUID()}`,
      masterToken: `emu-master-${randomUUID()}`,
      user,
      info: {
        databaseName: url.searchParams.get('databaseName'),
        schemaName: url.searchParams.get('schemaName'),
        warehouseName: url.searchParams.get('warehouse'),
        roleName: url.searchParams.get('roleName'),
      },
      parameters: (data.SESSION_PARAMETERS ?? {}) as Record<string, unknown>,
      conn: await this.engine.connect(),
      queue: Promise.resolve(),
    };
    this.byToken.set(session.token, session);
    return {
      success: true,
      code: null,
      message: null,
      data: {
        token: session.token,
        masterToken: session.masterToken,
        validityInSeconds: 3600,
        masterValidityInSeconds: 14400,
        sessionId: session.id,
        parameters: [{ name: 'CLIENT_STAGE_ARRAY_BINDING_THRESHOLD', value: 2147483647 }],
        sessionInfo: session.info,
      },
    };
  }

  /** The session whose token the request's `Authorization: Snowflake Token="..."` header names, if any. */
  authenticate(req: http.IncomingMessage): Session | undefined {
    const m = /Snowflake Token="([^"]+)"/.exec(req.headers.authorization ?? '');
    return m ? this.byToken.get(m[1] as string) : undefined;
  }

  /** Answers a token-request: the same tokens, valid for another hour. */
  renew(session: Session): Body {
    return {
      success: true,
      data: { sessionToken: session.token, validityInSecondsST: 3600, masterToken: session.masterToken },
    };
  }

  /** Ends the session (its token no longer authenticates) and closes its connection. */
  logout(session: Session): Body {
    this.byToken.delete(session.token);
    session.conn.close();
    return { success: true, data: null };
  }

  /** Ends every session and closes their connections. */
  forgetAll(): void {
    for (const s of this.byToken.values()) s.conn.close();
    this.byToken.clear();
  }
}
