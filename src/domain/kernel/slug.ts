import { MAX_NAMESPACE_BYTES } from "../../dataapi/names";

export const COLLECTION_PREFIX = "org_";

/**
 * Code points that render as nothing (zero-width joiners and spaces, bidi controls, variation
 * selectors, the soft hyphen, …): Unicode's Default_Ignorable_Code_Point property.
 */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** C0 and C1 controls, NUL and DEL among them. */
const CONTROL = /\p{Cc}/u;

/**
 * The slug that identifies an organization. Names that look alike must be one organization, so
 * compatibility forms are folded first (NFKC: full-width letters, ligatures) and invisible code
 * points dropped (`c<ZWJ>afe` is `cafe`, not `c_afe`); then accents are folded (NFKD), the name
 * lower-cased, every run of characters outside [a-z0-9] made one "_", and "_" trimmed.
 */
export const slugify = (name: string): string =>
  // Printable ASCII has no compatibility forms, invisible code points or marks: every read of an
  // organization by name slugs it, and the Unicode passes were most of what that cost.
  (PRINTABLE_ASCII.test(name) ? name : name.normalize("NFKC").replace(INVISIBLE, "").normalize("NFKD").replace(/\p{M}/gu, ""))
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
  if (CONTROL.test(name)) return "organization_name must not contain control characters";
  const slug = slugify(name);
  if (slug === "") return "organization_name must contain at least one letter or digit";
  if (slug.length > maxSlugLength(database)) return `organization_name is too long: its slug may have at most ${maxSlugLength(database)} characters`;
  return null;
};
