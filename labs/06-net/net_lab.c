/*
 * net_lab.c - lab 06: your code goes here.
 *
 * Read the handout (README.md) first; net_lab.h says exactly what each
 * function must do.  `make` builds the driver netlab (linked with libmnl:
 * apt install libmnl-dev), `make check` runs the public graded cases as
 * root in a throwaway VM.  Never run `ip` from here: build the rtnetlink
 * requests yourself.
 */
#include "net_lab.h"

#include <errno.h>

int net_ns_add(const char *name)
{
	/* TODO: mkdir NET_NS_DIR (EEXIST is fine), create NET_NS_DIR/NAME with
	 * O_CREAT | O_EXCL, keep a descriptor of /proc/self/ns/net,
	 * unshare(CLONE_NEWNET), bind-mount /proc/self/ns/net on the file, and
	 * setns(2) back.  On failure, remove the file. */
	(void)name;
	errno = ENOSYS;
	return -1;
}

int net_ns_del(const char *name)
{
	/* TODO: umount2(MNT_DETACH), then unlink. */
	(void)name;
	errno = ENOSYS;
	return -1;
}

int net_ns_enter(const char *name)
{
	/* TODO: open NET_NS_DIR/NAME, setns(fd, CLONE_NEWNET), close. */
	(void)name;
	errno = ENOSYS;
	return -1;
}

pid_t net_ns_fork(const char *name)
{
	/* TODO: open the namespace, fork; the child alone calls setns and
	 * returns 0 (or _exits with 126). */
	(void)name;
	errno = ENOSYS;
	return -1;
}

int net_veth_add(const char *name, const char *peer)
{
	/* TODO: RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, with
	 * IFLA_IFNAME and the nest IFLA_LINKINFO > IFLA_INFO_KIND "veth",
	 * IFLA_INFO_DATA > VETH_INFO_PEER > (struct ifinfomsg, IFLA_IFNAME).
	 * Send it, and read replies until the acknowledgement: its error
	 * becomes errno. */
	(void)name;
	(void)peer;
	errno = ENOSYS;
	return -1;
}

int net_link_del(const char *name)
{
	/* TODO: RTM_DELLINK naming the device with IFLA_IFNAME. */
	(void)name;
	errno = ENOSYS;
	return -1;
}

int net_link_set_ns(const char *ifname, const char *ns)
{
	/* TODO: RTM_NEWLINK on the device with IFLA_NET_NS_FD, a descriptor of
	 * NET_NS_DIR/NS (close it after the reply). */
	(void)ifname;
	(void)ns;
	errno = ENOSYS;
	return -1;
}

int net_addr_add(const char *ifname, const char *cidr)
{
	/* TODO: parse "A.B.C.D/LEN" (inet_pton, strtol), find the device's
	 * index (if_nametoindex), and send RTM_NEWADDR with IFA_LOCAL and
	 * IFA_ADDRESS. */
	(void)ifname;
	(void)cidr;
	errno = ENOSYS;
	return -1;
}

int net_link_up(const char *ifname)
{
	/* TODO: RTM_NEWLINK with IFF_UP in ifi_flags and ifi_change. */
	(void)ifname;
	errno = ENOSYS;
	return -1;
}

int net_pair_up(const struct net_pair *pair)
{
	/* TODO: namespace, pair, move the peer, host address and up, then
	 * inside: peer address, peer up, lo up - and back.  Undo what you
	 * made if a step fails. */
	(void)pair;
	errno = ENOSYS;
	return -1;
}

int net_pair_down(const struct net_pair *pair)
{
	/* TODO: delete host_if, delete the namespace; try both. */
	(void)pair;
	errno = ENOSYS;
	return -1;
}
