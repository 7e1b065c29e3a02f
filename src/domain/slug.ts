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

/**
 * The longest collection name the strictest store the service may run on accepts: FerretDB refuses
 * collection names over 235 characters whatever the database (measured on 1.24), where MongoDB
 * allows "<database>.<collection>" up to 255 bytes.
 */
export const MAX_PORTABLE_COLLECTION_NAME = 235;

/** The longest slug whose collection every supported store accepts in `database` (231 in `master_db`). */
export const maxSlugLength = (database: string): number =>
  Math.min(MAX_PORTABLE_COLLECTION_NAME, MAX_NAMESPACE_BYTES - database.length - 1) - COLLECTION_PREFIX.length;

/** Why a name cannot identify an organization, or null when it can. */
export const slugProblem = (name: string, database: string): string | null => {
  const slug = slugify(name);
  if (slug === "") return "organization_name must contain at least one letter or digit";
  if (slug.length > maxSlugLength(database)) return `organization_name is too long: its slug may have at most ${maxSlugLength(database)} characters`;
  return null;
};
