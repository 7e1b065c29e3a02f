import { MAX_NAMESPACE_BYTES } from "../dataapi/names";

export const COLLECTION_PREFIX = "org_";

/**
 * The slug that identifies an organization: accents folded (NFKD), lower case, every run of
 * characters outside [a-z0-9] one "_", trimmed of "_". Two names with one slug are one organization.
 */
export const slugify = (name: string): string =>
  name
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");

export const collectionNameFor = (slug: string): string => `${COLLECTION_PREFIX}${slug}`;

/** The longest slug whose collection still fits MongoDB's namespace limit in `database`. */
export const maxSlugLength = (database: string): number => MAX_NAMESPACE_BYTES - database.length - 1 - COLLECTION_PREFIX.length;

/** Why a name cannot identify an organization, or null when it can. */
export const slugProblem = (name: string, database: string): string | null => {
  const slug = slugify(name);
  if (slug === "") return "organization_name must contain at least one letter or digit";
  if (slug.length > maxSlugLength(database)) return `organization_name is too long: its slug may have at most ${maxSlugLength(database)} characters`;
  return null;
};
