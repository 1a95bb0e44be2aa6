// The shell of the web UI: header (navigation for what the signed-in user may use, who is
// signed in, sign out), the routes, and the sign-in form in place of any page when signed
// out (the URL stays, so a deep link opens its page right after signing in). Every page has
// its own URL; tabs and filters live in the path and query string.
import { Link, Redirect, Route, Switch, useLocation } from "wouter";
import {
  AdminAudit,
  AdminJob,
  AdminJobs,
  AdminQuotas,
  AdminRobots,
  AdminSystem,
  AdminUsers,
} from "./pages/admin.js";
import { ArtifactPage } from "./pages/artifact.js";
import { ProjectPage } from "./pages/project.js";
import { ProjectsPage } from "./pages/projects.js";
import { RepositoryPage } from "./pages/repository.js";
import { SignIn } from "./pages/signin.js";
import { AdminTrash } from "./pages/trash.js";
import { SessionProvider, useSession } from "./session.js";
import { mainNavigation } from "./shape/menus.js";
import { ErrorBox, Loading } from "./ui.js";

function Header() {
  const { session, signOut } = useSession();
  const [location, navigate] = useLocation();
  return (
    <header className="top">
      <Link href="/projects" className="brand">
        Berth
      </Link>
      <nav aria-label="Main" className="mainnav">
        {mainNavigation(session).map((entry) => (
          <Link
            key={entry.href}
            href={entry.href}
            aria-current={location.startsWith(entry.href) ? "page" : undefined}
          >
            {entry.label}
          </Link>
        ))}
      </nav>
      {session && (
        <div className="who">
          <span data-testid="signed-in-user">
            {session.username}
            {session.isAdmin ? " (admin)" : ""}
          </span>
          <button type="button" onClick={() => signOut().then(() => navigate("/projects"))}>
            Sign out
          </button>
        </div>
      )}
    </header>
  );
}

function Routes() {
  const { session, loading } = useSession();
  if (loading) return <Loading what="session" />;
  if (!session) return <SignIn />;
  return (
    <Switch>
      <Route path="/">
        <Redirect to="/projects" replace />
      </Route>
      <Route path="/signin">
        <Redirect to="/projects" replace />
      </Route>
      <Route path="/projects" component={ProjectsPage} />
      <Route
        path="/projects/:project/repo/:repository/artifacts/:reference"
        component={ArtifactPage}
      />
      <Route path="/projects/:project/repo/:repository" component={RepositoryPage} />
      <Route path="/projects/:project/:tab?" component={ProjectPage} />
      <Route path="/admin">
        <Redirect to="/admin/users" replace />
      </Route>
      <Route path="/admin/users" component={AdminUsers} />
      <Route path="/admin/robots" component={AdminRobots} />
      <Route path="/admin/jobs/:id" component={AdminJob} />
      <Route path="/admin/jobs" component={AdminJobs} />
      <Route path="/admin/quotas" component={AdminQuotas} />
      <Route path="/admin/trash" component={AdminTrash} />
      <Route path="/admin/audit" component={AdminAudit} />
      <Route path="/admin/system" component={AdminSystem} />
      <Route>
        <ErrorBox error={new Error("There is no such page.")} />
      </Route>
    </Switch>
  );
}

export function App() {
  return (
    <SessionProvider>
      <Header />
      <main>
        <Routes />
      </main>
    </SessionProvider>
  );
}
