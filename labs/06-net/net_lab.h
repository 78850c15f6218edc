/**
 * @file net_lab.h
 * @brief Lab 06: a network namespace joined to the host by a veth pair.
 *
 * A network namespace has its own devices, addresses, routes and ports; a
 * new one holds only a loopback device, down.  A veth pair is two virtual
 * devices joined like the two ends of a cable: move one end into the
 * namespace, give both ends an address, bring them up, and the namespace
 * can talk to the host.
 *
 * Everything here is what `ip netns add`, `ip link add ... type veth`,
 * `ip link set ... netns`, `ip addr add` and `ip link set ... up` do, done
 * the way ip does it: namespaces are named by a bind mount under /run/netns,
 * and devices and addresses are configured with rtnetlink requests (here
 * built with libmnl), each one acknowledged by the kernel.
 *
 * Every rtnetlink function works in the network namespace the caller is in
 * when it is called.  Every function returns -1 with errno set on failure;
 * for a request the kernel refused, errno is the error its reply carried.
 *
 * The handout (labs/06-net/README.md) explains each function step by step.
 */
#ifndef NET_LAB_H
#define NET_LAB_H

#include <sys/types.h>

/** Where named network namespaces live, as `ip netns` names them. */
#define NET_NS_DIR "/run/netns"

/** A network namespace and the veth pair that joins it to the caller's. */
struct net_pair {
	const char *ns;        /**< name of the namespace: NET_NS_DIR/ns */
	const char *host_if;   /**< the end that stays in the caller's namespace */
	const char *peer_if;   /**< the end moved into the namespace */
	const char *host_addr; /**< address of host_if, with its prefix: "10.6.1.1/24" */
	const char *peer_addr; /**< address of peer_if, same subnet: "10.6.1.2/24" */
};

/**
 * @brief Creates a named network namespace, like `ip netns add NAME`.
 *
 * Creates NET_NS_DIR if needed, an empty file NET_NS_DIR/NAME (which must
 * not exist), enters a new network namespace with unshare(CLONE_NEWNET),
 * bind-mounts /proc/self/ns/net on the file - the mount keeps the
 * namespace alive with no process in it - and returns to the namespace the
 * caller was in.  On failure nothing is left: no file, no mount.
 *
 * @param name a file name: not empty, no '/', not "." or ".."
 * @return 0, or -1 with errno set (EEXIST: the name is taken; EINVAL: a bad
 *         name; EPERM: not root)
 */
int net_ns_add(const char *name);

/**
 * @brief Deletes a named network namespace, like `ip netns delete NAME`.
 *
 * Unmounts NET_NS_DIR/NAME (lazily: MNT_DETACH) and removes the file.  The
 * namespace itself ends once nothing else holds it (no process in it, no
 * open descriptor on it); its devices go with it.
 *
 * @param name the namespace's name, as given to net_ns_add()
 * @return 0, or -1 with errno set (ENOENT: no such namespace)
 */
int net_ns_del(const char *name);

/**
 * @brief Moves the calling process into a named network namespace.
 *
 * Opens NET_NS_DIR/NAME and calls setns(2) on it.  Sockets opened from then
 * on belong to that namespace; sockets already open stay where they were.
 *
 * @param name the namespace's name
 * @return 0, or -1 with errno set (ENOENT: no such namespace)
 */
int net_ns_enter(const char *name);

/**
 * @brief fork(2) into a named network namespace.
 *
 * Opens the namespace first (so that a missing one fails in the caller),
 * then forks.  The child joins the namespace, and only then returns 0; if
 * it cannot join, it says why on standard error and exits with status 126.
 * The caller stays where it was.
 * This is how `ip netns exec NAME CMD` starts CMD (the driver runs exec).
 *
 * @param name the namespace's name
 * @return in the caller, the child's PID, or -1 with errno set (ENOENT: no
 *         such namespace); in the child, 0
 */
pid_t net_ns_fork(const char *name);

/**
 * @brief Creates a veth pair, like `ip link add NAME type veth peer name PEER`.
 *
 * One RTM_NEWLINK request with NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK:
 * IFLA_IFNAME, and IFLA_LINKINFO holding IFLA_INFO_KIND "veth" and
 * IFLA_INFO_DATA, which holds VETH_INFO_PEER: an ifinfomsg of the peer
 * followed by its own IFLA_IFNAME.  Both ends are created down.
 *
 * @param name the first end's name, at most 15 bytes
 * @param peer the other end's name, at most 15 bytes
 * @return 0, or -1 with errno from the kernel's reply (EEXIST: a device of
 *         one of those names exists; EINVAL: a name over 15 bytes)
 */
int net_veth_add(const char *name, const char *peer);

/**
 * @brief Deletes a device, like `ip link del NAME`; for a veth, both ends.
 *
 * @param name the device's name
 * @return 0, or -1 with errno from the kernel's reply (ENODEV: no such device)
 */
int net_link_del(const char *name);

/**
 * @brief Moves a device into a named network namespace, like
 *        `ip link set IFNAME netns NS`.
 *
 * RTM_NEWLINK on the device with IFLA_NET_NS_FD, a descriptor of
 * NET_NS_DIR/NS.  The device loses its addresses on the way, and goes down.
 *
 * @param ifname the device to move
 * @param ns the named namespace it goes to
 * @return 0, or -1 with errno set (ENOENT: no such namespace; ENODEV: no
 *         such device)
 */
int net_link_set_ns(const char *ifname, const char *ns);

/**
 * @brief Adds an IPv4 address to a device, like `ip addr add CIDR dev IFNAME`.
 *
 * RTM_NEWADDR with NLM_F_CREATE | NLM_F_EXCL: an ifaddrmsg (AF_INET, the
 * prefix length, the device's index) and the address as IFA_LOCAL and
 * IFA_ADDRESS.  The kernel then adds the route to the subnet by itself.
 *
 * @param ifname the device
 * @param cidr "A.B.C.D/LEN", LEN from 0 to 32
 * @return 0, or -1 with errno set (EINVAL: not such an address; ENODEV: no
 *         such device; EEXIST: the device has that address already)
 */
int net_addr_add(const char *ifname, const char *cidr);

/**
 * @brief Brings a device up, like `ip link set IFNAME up`.
 *
 * RTM_NEWLINK on the device with IFF_UP in ifi_flags and in ifi_change
 * (the bits of ifi_flags the request changes).
 *
 * @param ifname the device
 * @return 0, or -1 with errno from the kernel's reply (ENODEV: no such device)
 */
int net_link_up(const char *ifname);

/**
 * @brief The whole set-up: namespace, veth pair, addresses, everything up.
 *
 * In this order: creates the namespace, creates the pair, moves peer_if into
 * the namespace, gives host_if its address and brings it up; then, inside
 * the namespace, gives peer_if its address and brings up peer_if and the
 * namespace's loopback "lo".  The caller ends in the namespace it started
 * in.  If a step fails, what this call created is undone - and only that:
 * a device that existed before is not deleted.
 *
 * @param pair the names and addresses of both ends and of the namespace
 * @return 0, or -1 with errno of the step that failed
 */
int net_pair_up(const struct net_pair *pair);

/**
 * @brief Undoes net_pair_up(): deletes host_if (which takes peer_if with it)
 *        and the namespace.
 *
 * Tries both steps even if the first fails.
 *
 * @param pair the same description net_pair_up() was given
 * @return 0, or -1 with errno of the first step that failed
 */
int net_pair_down(const struct net_pair *pair);

#endif
