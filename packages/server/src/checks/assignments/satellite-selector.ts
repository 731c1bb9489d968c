// Which satellites a check's `runOn.satellites` selects, compiled once per check revision, and
// the keys that index both sides: a satellite's set is found from the checks filed under its
// keys, and a changed check's audience from the satellites filed under its anchors — never by
// scanning every check or every satellite.
import type { SatelliteSelector } from "@vantage/protocol";
import type { SatelliteProfile } from "../../satellites/index.ts";

/** A satellite as selectors read it: its profile, with its tags as a set and its index keys. */
export interface SelectableSatellite {
  id: string;
  region: string;
  tags: ReadonlySet<string>;
  /** One per fact a selector can name: its id, its region, each of its tags. */
  keys: readonly string[];
  /** What its hello announced it can run: a check of another type is never assigned to it. */
  capabilities: ReadonlySet<string>;
}

export interface CompiledSelector {
  ids: ReadonlySet<string>;
  regions: ReadonlySet<string> | undefined;
  tags: readonly string[] | undefined;
  /**
   * Keys every selected satellite carries at least one of: each listed id; and each region,
   * or else (tags only) the first tag, which every selected satellite must carry.
   */
  anchors: readonly string[];
}

const idKey = (id: string) => `id:${id.toLowerCase()}`;
const regionKey = (region: string) => `region:${region}`;
const tagKey = (tag: string) => `tag:${tag}`;

export function selectableSatellite(profile: SatelliteProfile, capabilities: Iterable<string>): SelectableSatellite {
  return {
    id: profile.id.toLowerCase(),
    region: profile.region,
    tags: new Set(profile.tags),
    keys: [idKey(profile.id), regionKey(profile.region), ...profile.tags.map(tagKey)],
    capabilities: new Set(capabilities),
  };
}

export function compileSelector(selector: SatelliteSelector): CompiledSelector {
  const { regions, tags } = selector;
  const ids = (selector.ids ?? []).map((id) => id.toLowerCase());
  const anchors = ids.map(idKey);
  if (regions) anchors.push(...regions.map(regionKey));
  else if (tags) anchors.push(tagKey(tags[0]!));
  return { ids: new Set(ids), regions: regions && new Set(regions), tags, anchors };
}

/**
 * The selector's rule (see `runOnSchema`): a satellite whose id is listed; or, when regions
 * and/or tags are given, one in one of the regions (if given) carrying every tag (if given).
 */
export function selects(selector: CompiledSelector, satellite: SelectableSatellite): boolean {
  if (selector.ids.has(satellite.id)) return true;
  if (!selector.regions && !selector.tags) return false;
  if (selector.regions && !selector.regions.has(satellite.region)) return false;
  return selector.tags?.every((tag) => satellite.tags.has(tag)) ?? true;
}
