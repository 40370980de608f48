// The git side of push protection: what a push adds, streamed through the content scan.
//
//   git rev-list --objects --stdin --not --all      the objects the new tips reach that no
//     | git cat-file --batch-check=...              existing ref reaches (new branches, tags,
//     -> filter (blobs, commits, tags by size)      fast-forwards and force-pushes alike),
//     -> git cat-file --batch=...                   their type and size, then their content,
//     -> ContentScan                                one piece at a time (64 KiB reads).
//
// Run inside a pre-receive hook, the git commands see the pushed objects in git's quarantine
// through the environment git gives the hook.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "push/content_scan.hpp"
#include "push/process.hpp"

namespace gvx::push {

struct ObjectSighting {
    std::string object;  // the blob, commit or tag that holds the token
    std::string type;    // "blob", "commit", "tag"
    std::string path;    // the blob's path (or the tag's name) as rev-list names it
    Sighting sighting;
};

struct PushScan {
    std::vector<ObjectSighting> sightings;
    std::uint64_t objects = 0;         // listed by rev-list
    std::uint64_t scanned = 0;         // blobs, commits and tags read
    std::uint64_t bytes = 0;           // bytes given to the finder
    std::uint64_t skipped_binary = 0;
    std::uint64_t skipped_large = 0;
};

// Scans everything reachable from tips that no ref of the repository reaches yet.
Result<PushScan> scan_pushed_objects(const std::vector<std::string>& tips,
                                     std::uint64_t max_bytes, Clock::time_point deadline);

// The earliest commit among those the tips add that introduces the object (for a blob), or
// the object itself (a commit); empty when none is found.
std::string introducing_commit(const std::vector<std::string>& tips, const ObjectSighting& s,
                               Clock::time_point deadline);

}  // namespace gvx::push
