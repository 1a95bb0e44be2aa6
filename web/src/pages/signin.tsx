// The sign-in form (POST /session); shows the API's answer (wrong password, locked out).
import { type FormEvent, useState } from "react";
import { useSession } from "../session.js";
import { ErrorBox } from "../ui.js";

export function SignIn() {
  const { signIn } = useSession();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      await signIn(String(form.get("username")), String(form.get("password")));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card signin" onSubmit={submit} aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in to Berth</h1>
      <label>
        Username
        <input name="username" autoComplete="username" required />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <ErrorBox error={error} />
      <button type="submit" className="primary" disabled={busy}>
        Sign in
      </button>
    </form>
  );
}
