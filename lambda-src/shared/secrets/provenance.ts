import { PROVENANCE_TAG_PREFIX } from './contract';
import { tagMap } from './values';

// The provenance tags a replica carries (which primary, which key, which deployment): every
// handler that writes or compares replicas reads them from here.
export { LEGACY_PROVENANCE_TAGS, PROVENANCE_TAG_PREFIX, ProvenanceTag } from './contract';

/** Whether a tag key is one of the replicator's provenance tags (current or earlier releases). */
export function isProvenanceTag(key: string): boolean {
  return key.startsWith(PROVENANCE_TAG_PREFIX);
}

/** The primary's own tags: without AWS-reserved ones and without provenance tags. */
export function userTags(tags: Array<{ Key?: string; Value?: string }> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(tagMap(tags)).filter(([k]) => !k.startsWith('aws:') && !isProvenanceTag(k)));
}
