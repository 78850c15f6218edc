/*
 * net_lab.c - reference solution of lab 06.
 */
#include "net_lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* Room for one request or one reply; ours are a few hundred bytes. */
#define NET_MSG_SIZE 8192

/* ------------------------------------------------------------ namespaces */

/* NET_NS_DIR/name into path, refusing names that are not a plain file name. */
static int ns_path(char *path, size_t size, const char *name)
{
	if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)snprintf(path, size, "%s/%s", NET_NS_DIR, name) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int net_ns_add(const char *name)
{
	char path[256];
	if (ns_path(path, sizeof(path), name) != 0)
		return -1;
	if (mkdir(NET_NS_DIR, 0755) != 0 && errno != EEXIST)
		return -1;
	/* O_EXCL: an existing name is an error, not a namespace to replace. */
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	close(fd);
	/* unshare moves us: keep a way back to where we were. */
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		int saved = errno;
		unlink(path);
		errno = saved;
		return -1;
	}
	int ret = -1, saved = 0;
	if (unshare(CLONE_NEWNET) == 0) {
		/* The mount holds the namespace once we have left it. */
		ret = mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL);
		saved = errno;
		if (setns(home, CLONE_NEWNET) != 0) {
			saved = errno;
			if (ret == 0)
				umount2(path, MNT_DETACH);
			ret = -1;
		}
	} else {
		saved = errno;
	}
	close(home);
	if (ret != 0) {
		unlink(path);
		errno = saved;
	}
	return ret;
}

int net_ns_del(const char *name)
{
	char path[256];
	if (ns_path(path, sizeof(path), name) != 0)
		return -1;
	/* EINVAL: not a mount point, only a file left by a failed add. */
	if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL)
		return -1;
	return unlink(path);
}

/* An O_RDONLY descriptor of the namespace's file, to setns or to pass on. */
static int ns_open(const char *name)
{
	char path[256];
	if (ns_path(path, sizeof(path), name) != 0)
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

int net_ns_enter(const char *name)
{
	int fd = ns_open(name);
	if (fd < 0)
		return -1;
	int ret = setns(fd, CLONE_NEWNET);
	int saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

pid_t net_ns_fork(const char *name)
{
	int fd = ns_open(name);
	if (fd < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		/* Only the child moves: the caller stays in its namespace. */
		if (setns(fd, CLONE_NEWNET) != 0) {
			dprintf(STDERR_FILENO, "net_ns_fork: setns %s: %s\n", name, strerror(errno));
			_exit(126);
		}
		close(fd);
		return 0;
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return pid;
}

/* ------------------------------------------------------------- rtnetlink */

/*
 * Sends one request and reads until its acknowledgement.  NLM_F_ACK makes
 * the kernel answer every request with an NLMSG_ERROR message: error 0 for
 * success, else -errno.  mnl_cb_run() turns a non-zero one into -1 with
 * errno set.  The socket is opened here, so that it belongs to the network
 * namespace the caller is in now.
 */
static int rtnl_talk(struct nlmsghdr *nlh)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -1;
	int ret = -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0) {
		unsigned int portid = mnl_socket_get_portid(nl);
		nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = 1;
		if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0) {
			char buf[NET_MSG_SIZE];
			do {
				ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
				ret = n < 0 ? -1 : mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL);
			} while (ret > 0); /* MNL_CB_OK: not the acknowledgement yet */
		}
	}
	int saved = errno;
	mnl_socket_close(nl);
	errno = saved;
	return ret < 0 ? -1 : 0;
}

/* A link request (RTM_NEWLINK, RTM_DELLINK) naming its device by IFLA_IFNAME. */
static struct nlmsghdr *link_request(char *buf, uint16_t type, uint16_t flags, const char *ifname,
				     struct ifinfomsg **ifi)
{
	memset(buf, 0, NET_MSG_SIZE);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	*ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(**ifi));
	(*ifi)->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	return nlh;
}

int net_veth_add(const char *name, const char *peer)
{
	char buf[NET_MSG_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name, &ifi);
	struct nlattr *linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	struct nlattr *peerinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer is a link of its own: its ifinfomsg, then its attributes. */
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_nest_end(nlh, peerinfo);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return rtnl_talk(nlh);
}

int net_link_del(const char *name)
{
	char buf[NET_MSG_SIZE];
	struct ifinfomsg *ifi;
	return rtnl_talk(link_request(buf, RTM_DELLINK, 0, name, &ifi));
}

int net_link_set_ns(const char *ifname, const char *ns)
{
	int fd = ns_open(ns);
	if (fd < 0)
		return -1;
	char buf[NET_MSG_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, 0, ifname, &ifi);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)fd);
	int ret = rtnl_talk(nlh);
	int saved = errno;
	close(fd); /* the kernel took its own reference during the request */
	errno = saved;
	return ret;
}

int net_link_up(const char *ifname)
{
	char buf[NET_MSG_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, 0, ifname, &ifi);
	/* ifi_change says which flags the request sets: only IFF_UP. */
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return rtnl_talk(nlh);
}

/* "A.B.C.D/LEN" into an address (network byte order) and a prefix length. */
static int parse_cidr(const char *cidr, struct in_addr *addr, unsigned char *prefix)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(cidr, '/');
	if (!slash || (size_t)(slash - cidr) >= sizeof(ip))
		goto invalid;
	memcpy(ip, cidr, (size_t)(slash - cidr));
	ip[slash - cidr] = '\0';
	char *end;
	errno = 0;
	long len = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, ip, addr) != 1 || errno != 0 || end == slash + 1 || *end != '\0' || len < 0 ||
	    len > 32)
		goto invalid;
	*prefix = (unsigned char)len;
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}

int net_addr_add(const char *ifname, const char *cidr)
{
	struct in_addr addr;
	unsigned char prefix;
	if (parse_cidr(cidr, &addr, &prefix) != 0)
		return -1;
	/* Addresses name their device by index, in the caller's namespace. */
	unsigned int index = if_nametoindex(ifname);
	if (index == 0)
		return -1;
	char buf[NET_MSG_SIZE];
	memset(buf, 0, sizeof(buf));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = index;
	/* On a point-to-multipoint device both are the device's own address. */
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	return rtnl_talk(nlh);
}

/* ------------------------------------------------------------ the pair */

/* The namespace's side: called once inside it. */
static int configure_inside(const struct net_pair *pair)
{
	if (net_addr_add(pair->peer_if, pair->peer_addr) != 0)
		return -1;
	if (net_link_up(pair->peer_if) != 0)
		return -1;
	return net_link_up("lo");
}

/* Enters ns, configures its side, and comes back to home whatever happened. */
static int configure_in_ns(const struct net_pair *pair, int home)
{
	if (net_ns_enter(pair->ns) != 0)
		return -1;
	int ret = configure_inside(pair);
	int saved = errno;
	if (setns(home, CLONE_NEWNET) != 0) {
		/* Stranded in the namespace: say so rather than go on. */
		dprintf(STDERR_FILENO, "net_pair_up: cannot return to the first namespace: %s\n", strerror(errno));
		abort();
	}
	errno = saved;
	return ret;
}

int net_pair_up(const struct net_pair *pair)
{
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return -1;
	int made_ns = 0, made_veth = 0;
	if (net_ns_add(pair->ns) != 0)
		goto undo;
	made_ns = 1;
	if (net_veth_add(pair->host_if, pair->peer_if) != 0)
		goto undo;
	made_veth = 1;
	/* Move first: a device loses its addresses when it changes namespace. */
	if (net_link_set_ns(pair->peer_if, pair->ns) != 0)
		goto undo;
	if (net_addr_add(pair->host_if, pair->host_addr) != 0 || net_link_up(pair->host_if) != 0)
		goto undo;
	if (configure_in_ns(pair, home) != 0)
		goto undo;
	close(home);
	return 0;
undo:;
	/* Only what this call made: an EEXIST must not delete someone's device. */
	int saved = errno;
	if (made_veth)
		net_link_del(pair->host_if); /* its peer goes too, wherever it is */
	if (made_ns)
		net_ns_del(pair->ns);
	close(home);
	errno = saved;
	return -1;
}

int net_pair_down(const struct net_pair *pair)
{
	int ret = net_link_del(pair->host_if);
	int saved = errno;
	if (net_ns_del(pair->ns) != 0 && ret == 0) {
		ret = -1;
		saved = errno;
	}
	errno = saved;
	return ret;
}
