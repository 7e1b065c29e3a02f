import type { Deps } from "../kernel/deps";
import type { CustomRoleRecord, OrganizationDoc } from "../kernel/model";
import type { Permission } from "../kernel/roles";
import { grantsOf } from "../roles/roles";

/**
 * The platform's role templates: custom roles every new organization starts with, as an operator
 * defines them (`/platform/role-templates`). They are copied into the organization's document by
 * the insert that creates it, so an organization owns its roles from its first moment and a later
 * change of the templates reaches only organizations created after it.
 */

/** The platform's own settings, one document each. */
export const PLATFORM_SETTINGS = "platform_settings";

const TEMPLATES_ID = "role_templates";

export interface RoleTemplate {
  name: string;
  permissions: Permission[];
  description?: string;
}

interface TemplatesDoc {
  [key: string]: unknown;
  _id: string;
  templates: RoleTemplate[];
  updated_at: Date;
  updated_by: string;
}

export interface RoleTemplatesView {
  templates: { name: string; permissions: Permission[]; description: string | null }[];
  updated_at: string | null;
}

const settings = (deps: Deps) => deps.data.collection<TemplatesDoc>(PLATFORM_SETTINGS);

const viewOf = (doc: TemplatesDoc | null): RoleTemplatesView => ({
  templates: (doc?.templates ?? []).map((template) => ({ ...template, description: template.description ?? null })),
  updated_at: doc?.updated_at.toISOString() ?? null,
});

export const readRoleTemplates = async (deps: Deps): Promise<RoleTemplatesView> => viewOf(await settings(deps).findOne({ _id: TEMPLATES_ID }));

/** Replaces the templates as a whole (an empty list removes them): new organizations start with these. */
export const replaceRoleTemplates = async (deps: Deps, templates: RoleTemplate[], operatorId: string): Promise<RoleTemplatesView> => {
  const doc: TemplatesDoc = {
    _id: TEMPLATES_ID,
    templates: templates.map(({ name, permissions, description }) => ({
      name,
      permissions: [...new Set(permissions)],
      ...(description ? { description } : {}),
    })),
    updated_at: deps.now(),
    updated_by: operatorId,
  };
  const { _id, ...fields } = doc;
  await settings(deps).updateOne({ _id }, { $set: fields }, { upsert: true });
  return viewOf(doc);
};

/** What a new organization's document starts with: the templates as its own roles, and what they grant. */
export const startingRoles = async (deps: Deps, now: Date): Promise<Pick<OrganizationDoc, "custom_roles" | "role_grants">> => {
  const doc = await settings(deps).findOne({ _id: TEMPLATES_ID });
  if (!doc?.templates.length) return {};
  const custom_roles: Record<string, CustomRoleRecord> = Object.fromEntries(
    doc.templates.map(({ name, permissions, description }) => [
      name,
      { permissions, ...(description ? { description } : {}), created_at: now, updated_at: now },
    ]),
  );
  return { custom_roles, role_grants: grantsOf(custom_roles) };
};
