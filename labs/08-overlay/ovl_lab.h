/**
 * @file ovl_lab.h
 * @brief Lab 08: an overlay filesystem built from image layers.
 *
 * A container's root filesystem is a stack: the image's read-only layers
 * (lower directories), and on top one writable directory (the upper) that
 * receives every change.  overlayfs merges them into one view.  Writing a
 * file of a lower layer copies it up first; deleting one leaves a
 * "whiteout" in the upper layer; a directory replaced as a whole is marked
 * "opaque".  Image layers carry deletions the same way, in the OCI format
 * (".wh.NAME" files), which a runtime converts to overlay's own markers
 * before it stacks them.
 *
 * Unless said otherwise, a function that fails returns -1 with errno set to
 * the error of the system call that failed.  The handout
 * (labs/08-overlay/README.md) explains each step.
 */
#ifndef OVL_LAB_H
#define OVL_LAB_H

#include <stddef.h>

/** The mount options must fit in one page: the kernel reads no more. */
#define OVL_OPTIONS_MAX 4096

/** Room for the explanation of a refusal. */
#define OVL_WHY_MAX 1024

/** The OCI marker of a deleted file: ".wh." followed by its name. */
#define OVL_OCI_WHITEOUT ".wh."

/** The OCI marker of an opaque directory, a file inside it. */
#define OVL_OCI_OPAQUE ".wh..wh..opq"

/** The extended attribute overlayfs reads to know a directory is opaque. */
#define OVL_OPAQUE_XATTR "trusted.overlay.opaque"

/** The directories of an overlay. */
struct ovl_layers {
	const char *const *lower; /**< lower layers in image order: lower[0] is the base,
				       lower[nlower - 1] the topmost */
	size_t nlower;            /**< how many (at least 1; at least 2 without upper) */
	const char *upper;        /**< the writable layer, or NULL for a read-only overlay */
	const char *work;         /**< overlay's scratch directory: same filesystem as upper,
				       empty at first; NULL exactly when upper is */
};

/**
 * @brief Checks the directories before mounting, and explains a refusal.
 *
 * Every directory must exist and be a directory (ENOENT, ENOTDIR).  upper
 * and work must be both given or both NULL, and without upper at least two
 * lower layers are needed (EINVAL).  Neither upper nor work may be, contain,
 * or be inside another of the directories (EINVAL): paths are compared
 * after realpath(3), component by component ("/a/up" is not inside
 * "/a/upper").  work must be on the same filesystem as upper (EXDEV).
 *
 * @param l    the directories
 * @param why  receives, on failure, a sentence naming the directory (and
 *             its role: lowerdir, upperdir, workdir) and the reason, e.g.
 *             "workdir /tmp/c/work: No such file or directory"
 * @param size the size of why
 * @return 0 if they can be mounted, or -1 with errno set and why filled
 */
int ovl_check(const struct ovl_layers *l, char *why, size_t size);

/**
 * @brief Builds the option string of the mount.
 *
 * "lowerdir=TOP:...:BASE,upperdir=UPPER,workdir=WORK" - overlayfs wants the
 * lower layers topmost first, the reverse of image order.  Without upper,
 * just "lowerdir=...".  A path containing ',' or ':' would be cut by the
 * kernel's parser: EINVAL.  Options that do not fit in size bytes
 * (terminating NUL included) are refused with E2BIG, never cut short.
 *
 * @param l    the directories
 * @param buf  receives the options
 * @param size the size of buf (at most OVL_OPTIONS_MAX is useful)
 * @return 0, or -1 with errno set (EINVAL, E2BIG)
 */
int ovl_options(const struct ovl_layers *l, char *buf, size_t size);

/**
 * @brief Mounts the overlay of l on merged.
 *
 * ovl_check(), then ovl_options() into OVL_OPTIONS_MAX bytes, then
 * mount("overlay", merged, "overlay", 0, options).
 *
 * @param l      the directories
 * @param merged an existing directory, where the merged view appears
 * @param why    receives the reason of a failure: ovl_check()'s sentence,
 *               "mount options: ..." (for E2BIG, naming the limit:
 *               "longer than the 4095 bytes the kernel reads") or
 *               "mount overlay on MERGED: ..."
 * @param size   the size of why
 * @return 0, or -1 with errno set and why filled
 */
int ovl_mount(const struct ovl_layers *l, const char *merged, char *why, size_t size);

/**
 * @brief Unmounts the overlay at merged.
 *
 * @param merged where it is mounted
 * @return 0, or -1 with errno set (EINVAL: nothing is mounted there;
 *         EBUSY: it is in use)
 */
int ovl_umount(const char *merged);

/**
 * @brief Creates an overlay whiteout: a character device numbered 0, 0.
 *
 * In a layer, a whiteout named NAME hides NAME of every layer below.
 *
 * @param path where to create it (nothing may exist there: EEXIST)
 * @return 0, or -1 with errno set
 */
int ovl_whiteout(const char *path);

/**
 * @brief Marks a directory opaque: the layers below no longer show through.
 *
 * Sets OVL_OPAQUE_XATTR to the single byte "y".
 *
 * @param dir the directory, in a layer
 * @return 0, or -1 with errno set
 */
int ovl_set_opaque(const char *dir);

/**
 * @brief Converts an extracted OCI layer to overlay's markers, in place.
 *
 * Walks dir and every directory below it - without following symbolic
 * links, which may point anywhere.  A file named OVL_OCI_OPAQUE is removed
 * and its directory marked opaque; a file named ".wh.NAME" is removed and
 * replaced by a whiteout named NAME.  Nothing else changes.
 *
 * @param dir the root of the extracted layer
 * @return the number of markers converted, or -1 with errno set
 */
int ovl_import_layer(const char *dir);

#endif
