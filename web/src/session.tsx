// The signed-in user: GET /session at start (401 = signed out), sign in with POST /session
// and out with DELETE /session. Keeps the CSRF token for api.ts. Nothing is stored in the
// browser beyond the server's HttpOnly cookie.
import { type QueryClient, useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useCallback, useContext, useMemo } from "react";
import { ApiError, del, get, post, type Session, setCsrfToken } from "./api.js";

interface SessionState {
  readonly session: Session | undefined;
  readonly loading: boolean;
  signIn(username: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

async function currentSession(): Promise<Session | null> {
  try {
    const session = await get<Session>("/session");
    setCsrfToken(session.csrfToken);
    return session;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/** Another user's answers must not show: drop every cached answer but the session's. */
function forgetAllBut(client: QueryClient, key: string): void {
  client.removeQueries({ predicate: (q) => q.queryKey[0] !== key });
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const query = useQuery({ queryKey: ["session"], queryFn: currentSession, staleTime: 60_000 });
  const signIn = useCallback(
    async (username: string, password: string) => {
      const session = await post<Session>("/session", { username, password });
      setCsrfToken(session.csrfToken);
      forgetAllBut(client, "session");
      client.setQueryData(["session"], session);
    },
    [client],
  );
  const signOut = useCallback(async () => {
    await del("/session");
    setCsrfToken(undefined);
    forgetAllBut(client, "session");
    client.setQueryData(["session"], null);
  }, [client]);
  const value = useMemo(
    () => ({ session: query.data ?? undefined, loading: query.isPending, signIn, signOut }),
    [query.data, query.isPending, signIn, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error("useSession outside SessionProvider");
  return state;
}
