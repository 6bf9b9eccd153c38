//! Geospatial indexes.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_geo {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

        /// Add members from `(longitude, latitude, member)` triples; returns how many were new.
        "geoadd" fn geoadd<K: ToArgs, I: ToArgs>(key: K, items: I) { cmd("GEOADD").with(key).with(items) }

        /// `geoadd` with NX/XX and CH.
        "geoadd" fn geoadd_options<K: ToArgs, I: ToArgs>(key: K, items: I, options: GeoAddOptions) {
            cmd("GEOADD").with(key).with(options).with(items)
        }

        /// Distance between two members in meters (nil if one is missing).
        "geodist" fn geodist<K: ToArgs, M1: ToArgs, M2: ToArgs>(key: K, member1: M1, member2: M2) {
            cmd("GEODIST").with(key).with(member1).with(member2)
        }

        /// Distance between two members in the given unit.
        "geodist" fn geodist_unit<K: ToArgs, M1: ToArgs, M2: ToArgs>(key: K, member1: M1, member2: M2, unit: GeoUnit) {
            cmd("GEODIST").with(key).with(member1).with(member2).with(unit)
        }

        /// Geohash strings of members (nil for each missing one).
        "geohash" fn geohash<K: ToArgs, M: ToArgs>(key: K, members: M) { cmd("GEOHASH").with(key).with(members) }

        /// `[longitude, latitude]` of members (nil for each missing one).
        "geopos" fn geopos<K: ToArgs, M: ToArgs>(key: K, members: M) { cmd("GEOPOS").with(key).with(members) }

        /// Members within a radius or box around a member or point.
        "geosearch" fn geosearch<K: ToArgs>(key: K, search: GeoSearch) { cmd("GEOSEARCH").with(key).with(search) }

        /// Store a `geosearch` result (STOREDIST for distances); returns its size.
        "geosearchstore" fn geosearchstore<D: ToArgs, S: ToArgs>(destination: D, source: S, search: GeoSearch) {
            cmd("GEOSEARCHSTORE").with(destination).with(source).with(search)
        }

        /// Legacy: members within `radius` of a point.
        "georadius" fn georadius<K: ToArgs>(key: K, longitude: f64, latitude: f64, radius: f64, unit: GeoUnit, options: GeoOptions) {
            cmd("GEORADIUS").with(key).with(longitude).with(latitude).with(radius).with(unit).with(options)
        }

        /// Legacy, read-only: members within `radius` of a point.
        "georadius_ro" fn georadius_ro<K: ToArgs>(key: K, longitude: f64, latitude: f64, radius: f64, unit: GeoUnit, options: GeoOptions) {
            cmd("GEORADIUS_RO").with(key).with(longitude).with(latitude).with(radius).with(unit).with(options)
        }

        /// Legacy: members within `radius` of a member.
        "georadiusbymember" fn georadiusbymember<K: ToArgs, M: ToArgs>(key: K, member: M, radius: f64, unit: GeoUnit, options: GeoOptions) {
            cmd("GEORADIUSBYMEMBER").with(key).with(member).with(radius).with(unit).with(options)
        }

        /// Legacy, read-only: members within `radius` of a member.
        "georadiusbymember_ro" fn georadiusbymember_ro<K: ToArgs, M: ToArgs>(key: K, member: M, radius: f64, unit: GeoUnit, options: GeoOptions) {
            cmd("GEORADIUSBYMEMBER_RO").with(key).with(member).with(radius).with(unit).with(options)
        }
        }
    };
}
