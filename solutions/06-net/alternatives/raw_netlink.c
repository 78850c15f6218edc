/*
 * net_lab.c - accepted alternative: plain netlink sockets instead of libmnl,
 * and a caller that never changes namespace.
 *
 * The messages are built with the kernel's own macros (NLMSG_*, RTA_*):
 * this is what libmnl does for you - lengths, alignment, nests.
 *
 * Whatever must happen inside a namespace (creating it, configuring its
 * side of the pair) runs in a throwaway child: it moves, works, and exits
 * with 0 or the errno of what failed.  The caller stays where it is, so
 * there is no way back to get wrong.
 */
#include "net_lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NET_MSG_SIZE 8192

/* ------------------------------------------------------ child helpers */

/* Runs fn(arg) in a forked child; returns 0, or -1 with the errno it exited with. */
static int in_child(int (*fn)(const void *), const void *arg)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg) == 0 ? 0 : (errno > 0 && errno < 256 ? errno : EIO));
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	errno = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
	return -1;
}

/* ------------------------------------------------------------ namespaces */

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

/* In the child: a new network namespace, bind-mounted on path. */
static int unshare_and_pin(const void *path)
{
	if (unshare(CLONE_NEWNET) != 0)
		return -1;
	return mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL);
}

int net_ns_add(const char *name)
{
	char path[256];
	if (ns_path(path, sizeof(path), name) != 0)
		return -1;
	if (mkdir(NET_NS_DIR, 0755) != 0 && errno != EEXIST)
		return -1;
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	close(fd);
	if (in_child(unshare_and_pin, path) != 0) {
		int saved = errno;
		unlink(path);
		errno = saved;
		return -1;
	}
	return 0;
}

int net_ns_del(const char *name)
{
	char path[256];
	if (ns_path(path, sizeof(path), name) != 0)
		return -1;
	if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL)
		return -1;
	return unlink(path);
}

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
		if (setns(fd, CLONE_NEWNET) != 0) {
			dprintf(STDERR_FILENO, "net_ns_fork: cannot join %s: %s\n", name, strerror(errno));
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

/* ------------------------------------------------------------- netlink */

/* A request: header, then the fixed part (ifinfomsg or ifaddrmsg), zeroed. */
static struct nlmsghdr *msg_start(void *buf, unsigned short type, unsigned short flags, size_t fixed)
{
	memset(buf, 0, NET_MSG_SIZE);
	struct nlmsghdr *nlh = buf;
	nlh->nlmsg_len = NLMSG_LENGTH(fixed);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = 1;
	return nlh;
}

/* Appends an attribute (len bytes of data) at the aligned end of the message. */
static struct rtattr *attr_put(struct nlmsghdr *nlh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

static void attr_put_str(struct nlmsghdr *nlh, unsigned short type, const char *s)
{
	attr_put(nlh, type, s, strlen(s) + 1);
}

/* A nest is an attribute whose length, once closed, covers what follows it. */
static struct rtattr *nest_start(struct nlmsghdr *nlh, unsigned short type)
{
	return attr_put(nlh, type, NULL, 0);
}

static void nest_end(struct nlmsghdr *nlh, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)nlh + nlh->nlmsg_len - (char *)nest);
}

/* Reads replies until the NLMSG_ERROR answering seq: 0, or -1 with its errno. */
static int read_ack(int fd, unsigned int seq)
{
	static char buf[NET_MSG_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		size_t left = (size_t)n;
		for (char *p = buf; left >= sizeof(struct nlmsghdr);) {
			struct nlmsghdr *h = (struct nlmsghdr *)p;
			if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > left) {
				errno = EBADMSG;
				return -1;
			}
			if (h->nlmsg_seq == seq && h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
					errno = EBADMSG;
					return -1;
				}
				if (e->error == 0)
					return 0;
				errno = -e->error;
				return -1;
			}
			size_t step = NLMSG_ALIGN(h->nlmsg_len);
			if (step >= left)
				break;
			p += step;
			left -= step;
		}
	}
}

/* One request, one acknowledgement, on a socket of the caller's namespace now. */
static int rtnl_talk(struct nlmsghdr *nlh)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK}; /* nl_pid 0: the kernel */
	int ret = -1;
	if (sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) >= 0)
		ret = read_ack(fd, nlh->nlmsg_seq);
	int saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

static struct nlmsghdr *link_msg(void *buf, unsigned short type, unsigned short flags, const char *ifname)
{
	struct nlmsghdr *nlh = msg_start(buf, type, flags, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	ifi->ifi_family = AF_UNSPEC;
	attr_put_str(nlh, IFLA_IFNAME, ifname);
	return nlh;
}

int net_veth_add(const char *name, const char *peer)
{
	static char buf[NET_MSG_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
	struct rtattr *linkinfo = nest_start(nlh, IFLA_LINKINFO);
	attr_put_str(nlh, IFLA_INFO_KIND, "veth");
	struct rtattr *data = nest_start(nlh, IFLA_INFO_DATA);
	struct rtattr *peerinfo = nest_start(nlh, VETH_INFO_PEER);
	/* The peer's own (zeroed) ifinfomsg comes before its attributes. */
	nlh->nlmsg_len += NLMSG_ALIGN(sizeof(struct ifinfomsg));
	attr_put_str(nlh, IFLA_IFNAME, peer);
	nest_end(nlh, peerinfo);
	nest_end(nlh, data);
	nest_end(nlh, linkinfo);
	return rtnl_talk(nlh);
}

int net_link_del(const char *name)
{
	static char buf[NET_MSG_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	return rtnl_talk(link_msg(buf, RTM_DELLINK, 0, name));
}

int net_link_set_ns(const char *ifname, const char *ns)
{
	int fd = ns_open(ns);
	if (fd < 0)
		return -1;
	static char buf[NET_MSG_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifname);
	unsigned int nsfd = (unsigned int)fd;
	attr_put(nlh, IFLA_NET_NS_FD, &nsfd, sizeof(nsfd));
	int ret = rtnl_talk(nlh);
	int saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

int net_link_up(const char *ifname)
{
	static char buf[NET_MSG_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifname);
	struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return rtnl_talk(nlh);
}

int net_addr_add(const char *ifname, const char *cidr)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(cidr, '/');
	struct in_addr addr;
	char *end;
	long len = -1;
	if (slash && (size_t)(slash - cidr) < sizeof(ip)) {
		memcpy(ip, cidr, (size_t)(slash - cidr));
		ip[slash - cidr] = '\0';
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno != 0 || end == slash + 1 || *end != '\0' || inet_pton(AF_INET, ip, &addr) != 1)
			len = -1;
	}
	if (len < 0 || len > 32) {
		errno = EINVAL;
		return -1;
	}
	unsigned int index = if_nametoindex(ifname);
	if (index == 0)
		return -1;
	static char buf[NET_MSG_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa = NLMSG_DATA(nlh);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = index;
	attr_put(nlh, IFA_LOCAL, &addr, sizeof(addr));
	attr_put(nlh, IFA_ADDRESS, &addr, sizeof(addr));
	return rtnl_talk(nlh);
}

/* ------------------------------------------------------------ the pair */

/* In a child: joins the namespace and configures its side. */
static int configure_inside(const void *arg)
{
	const struct net_pair *pair = arg;
	if (net_ns_enter(pair->ns) != 0 || net_addr_add(pair->peer_if, pair->peer_addr) != 0 ||
	    net_link_up(pair->peer_if) != 0)
		return -1;
	return net_link_up("lo");
}

int net_pair_up(const struct net_pair *pair)
{
	if (net_ns_add(pair->ns) != 0)
		return -1;
	int made_veth = 0;
	if (net_veth_add(pair->host_if, pair->peer_if) == 0) {
		made_veth = 1;
		/* The move before any address: addresses do not follow a device. */
		if (net_link_set_ns(pair->peer_if, pair->ns) == 0 && net_addr_add(pair->host_if, pair->host_addr) == 0 &&
		    net_link_up(pair->host_if) == 0 && in_child(configure_inside, pair) == 0)
			return 0;
	}
	int saved = errno;
	if (made_veth)
		net_link_del(pair->host_if);
	net_ns_del(pair->ns);
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
