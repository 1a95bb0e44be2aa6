// Tag immutability on the registry's paths: the admission hooks that apply the project's
// rules (policy/immutability.ts) to a manifest PUT by tag, a retag through the management
// API and every deletion (registry/deletion.ts), refusing with DENIED and a message naming
// the rule. Rules are read from meta/ on each check, so a new rule applies at once.
// A PUT onto a tag that does not exist yet is allowed (creating an immutable tag); two such
// PUTs racing on the same new tag may both pass the check (the later one wins), as in Harbor.
import type { Kysely } from "kysely";
import { projectOf } from "../auth/permissions.js";
import type { Database } from "../meta/database.js";
import { listImmutableRules, resolveTag } from "../meta/index.js";
import type {
  Admission,
  DeleteRequest,
  ManifestPutRequest,
  TagMoveRequest,
} from "../registry/admission.js";
import { RegistryError } from "../registry/errors.js";
import { type ImmutableRule, immutabilityVerdict } from "./immutability.js";

export class ImmutableTags implements Admission {
  constructor(private readonly db: Kysely<Database>) {}

  async rules(repository: string): Promise<ImmutableRule[]> {
    return listImmutableRules(this.db, projectOf(repository));
  }

  async beforeManifestPut(request: ManifestPutRequest): Promise<void> {
    if (request.tag === undefined) return;
    await this.checkMove(request.repository, request.tag, request.digest);
  }

  async beforeTagMove(request: TagMoveRequest): Promise<void> {
    await this.checkMove(request.repository, request.tag, request.digest);
  }

  async beforeDelete(request: DeleteRequest): Promise<void> {
    if (request.tags.length === 0) return;
    const rules = await this.rules(request.repository);
    for (const tag of request.tags) {
      const reason = immutabilityVerdict(rules, request.repository, { kind: "delete", tag });
      if (reason) throw new RegistryError("DENIED", reason, { detail: { tag } });
    }
  }

  private async checkMove(repository: string, tag: string, digest: string): Promise<void> {
    const rules = await this.rules(repository);
    if (rules.length === 0) return;
    const current = await resolveTag(this.db, repository, tag);
    const reason = immutabilityVerdict(rules, repository, {
      kind: "push",
      tag,
      current,
      next: digest,
    });
    if (reason) throw new RegistryError("DENIED", reason, { detail: { tag } });
  }
}
