// A job's image directory (CHECKPOINT_DIR/JOBID.CK) and the images in it. Root creates the
// directory only inside a directory an admin chose, through descriptors (openat with
// O_NOFOLLOW, fchown); in a directory a user named, all of this runs as the job's owner.
#pragma once
#include <string>
#include <vector>

#include "mom/job_launch.h"
#include "mom/job_record.h"

namespace reprise::mom {

// CHECKPOINT_DIR/JOBID.CK: the job's checkpoint_dir, else -c dir=, else PBS_HOME/checkpoint.
std::string image_dir(const std::string& home, const JobRecord& job);

// Makes the image directory exist, a directory of the owner's, mode 0700. False with a
// one-line error that says what to do.
bool prepare_image_dir(const std::string& home, const JobRecord& job, const Owner& owner, std::string& error);

// A new image name in `dir`, ckpt.JOBID.UNIXTIME (a counter appended if taken), as the owner.
bool new_image_name(const Owner& owner, const std::string& dir, const std::string& job_id, long time,
                    std::string& name, std::string& error);

// Whether dir/name exists, looked at as the owner.
bool image_exists(const Owner& owner, const std::string& dir, const std::string& name);

// The newest image of the job in `dir` written at or after `since` (epoch seconds), as the
// owner; false if there is none. `mtime` is when it was written.
bool newest_image(const Owner& owner, const std::string& dir, const std::string& job_id, long since,
                  std::string& name, long& mtime);

// Deletes the oldest images of the job beyond `depth` (0 keeps all), as the owner.
void prune_images(const Owner& owner, const std::string& dir, const std::string& job_id, long depth);

// Image names of a job ordered oldest first (by the number after the job id).
void sort_image_names(std::vector<std::string>& names, const std::string& job_id);

}  // namespace reprise::mom
