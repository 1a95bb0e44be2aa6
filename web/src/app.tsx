// The shell of the web UI: header (navigation for what the signed-in user may use, who is
// signed in, sign out), the routes, and the sign-in form in place of any page when signed
// out (the URL stays, so a deep link opens its page right after signing in). Every page has
// its own URL; tabs and filters live in the path and query string.
import { type ComponentType, lazy, Suspense } from "react";
import { Link, Redirect, Route, Switch, useLocation } from "wouter";
import { ProjectsPage } from "./pages/projects.js";
import { SignIn } from "./pages/signin.js";
import { SessionProvider, useSession } from "./session.js";
import { mainNavigation } from "./shape/menus.js";
import { ErrorBox, Loading } from "./ui.js";

/**
 * A page loaded on first use (its own chunk), so the first load of the project list carries
 * only the shell, the sign-in form and that list (bench/ui.ts).
 */
function page<M>(load: () => Promise<M>, name: keyof M): ComponentType {
  return lazy(async () => ({ default: (await load())[name] as ComponentType }));
}
const admin = () => import("./pages/admin.js");
const AdminAudit = page(admin, "AdminAudit");
const AdminJob = page(admin, "AdminJob");
const AdminJobs = page(admin, "AdminJobs");
const AdminQuotas = page(admin, "AdminQuotas");
const AdminRobots = page(admin, "AdminRobots");
const AdminSystem = page(admin, "AdminSystem");
const AdminUsers = page(admin, "AdminUsers");
const ArtifactPage = page(() => import("./pages/artifact.js"), "ArtifactPage");
const ProjectPage = page(() => import("./pages/project.js"), "ProjectPage");
const RepositoryPage = page(() => import("./pages/repository.js"), "RepositoryPage");
const AdminTrash = page(() => import("./pages/trash.js"), "AdminTrash");
const RegistriesPage = page(() => import("./pages/registries.js"), "RegistriesPage");
const replication = () => import("./pages/replication.js");
const AdminReplication = page(replication, "AdminReplication");
const AdminReplicationExecution = page(replication, "AdminReplicationExecution");

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
      <Route path="/admin/replication/executions/:id" component={AdminReplicationExecution} />
      <Route path="/admin/replication" component={AdminReplication} />
      <Route path="/admin/quotas" component={AdminQuotas} />
      <Route path="/admin/registries" component={RegistriesPage} />
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
      <a href="#content" className="skip">
        Skip to content
      </a>
      <Header />
      <main id="content" tabIndex={-1}>
        <Suspense fallback={<Loading what="page" />}>
          <Routes />
        </Suspense>
      </main>
    </SessionProvider>
  );
}
