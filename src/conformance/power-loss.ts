/**
 * @internal What a power loss leaves of a directory tree on a POSIX file system, for the crash
 * cases of a store that reports its syncs (`capabilities.syncs`, {@link StoreHooks.synced}).
 *
 * The model, from the moment it is made (everything on disk then counts as durable):
 * - a file's data is what it held at its last fdatasync (reported as `synced('file', path)`), or
 *   nothing for a file never synced;
 * - a directory's entries (files made, renamed in, removed; directories made) are those it held at
 *   its last fsync (`synced('directory', path)`); a directory never synced has none.
 * Everything else, written and not synced, is gone: the harshest outcome POSIX allows, and the one
 * that breaks an order of writes that counts on a sync it did not wait for. From {@link crash} on,
 * nothing more counts; {@link apply} then rebuilds the tree as the disk would hold it.
 *
 * Files are told apart by inode, as the disk does (a rename moves an inode from one entry to
 * another). Every inode seen is held open until {@link release}, so that its number is not reused
 * by a new file while the model still refers to it.
 *
 * With `only`, the model follows one entry of `root` (it may not exist yet) and leaves the others
 * as they are: a store's directory made by its first write, beside files of the process (a lock)
 * that no power loss needs to bring back.
 */
import { closeSync, constants, fstatSync, openSync, readSync, readdirSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

interface FileNode {
  kind: 'file';
  fd: number;
  data: Buffer;
}
interface DirectoryNode {
  kind: 'directory';
  fd: number;
  entries: Map<string, Node>;
}
type Node = FileNode | DirectoryNode;

/** @internal A model of the durable state of one directory tree; see the module comment. */
export interface PowerLoss {
  /** A store's report (`hooks.synced`): the data of file `path`, or the entries of directory `path`, are durable. */
  synced(kind: 'file' | 'directory', path: string): void;
  /** The power goes: what is durable now is what {@link apply} leaves. */
  crash(): void;
  readonly crashed: boolean;
  /** Replaces the tree on disk by what the power loss left (no store may have it open). */
  apply(): Promise<void>;
  /** Closes the inodes held open. */
  release(): void;
}

/** @internal Takes what is under `root` now as durable, and follows the syncs reported after. */
export function createPowerLoss(root: string, options: { only?: string } = {}): PowerLoss {
  /** Whether `name` in directory `dir` is the model's. */
  const followed = (dir: string, name: string) =>
    options.only === undefined || path.resolve(dir) !== path.resolve(root) || name === options.only;
  const byInode = new Map<number, Node>();
  let crashed = false;

  /** The node of the inode at `file` now (a new one never synced if unseen), or null if none is there. */
  const nodeAt = (file: string): Node | null => {
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return null; // gone meanwhile, or a link: not the store's data
    }
    const info = fstatSync(fd);
    const known = byInode.get(info.ino);
    if (known !== undefined || !(info.isFile() || info.isDirectory())) {
      closeSync(fd);
      return known ?? null;
    }
    const node: Node = info.isFile()
      ? { kind: 'file', fd, data: Buffer.alloc(0) }
      : { kind: 'directory', fd, entries: new Map() };
    byInode.set(info.ino, node);
    return node;
  };
  const syncFile = (node: Node) => {
    if (node.kind !== 'file') return;
    const size = fstatSync(node.fd).size;
    const data = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const n = readSync(node.fd, data, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    node.data = data.subarray(0, read);
  };
  const syncDirectory = (node: Node, dir: string) => {
    if (node.kind !== 'directory') return;
    node.entries = new Map();
    for (const name of readdirSync(dir)) {
      if (!followed(dir, name)) continue;
      const child = nodeAt(path.join(dir, name));
      if (child !== null) node.entries.set(name, child);
    }
  };

  // Armed: everything there now is durable.
  const top = nodeAt(root);
  if (top === null || top.kind !== 'directory') throw new Error(`power loss: ${root} is not a directory`);
  const arm = (node: Node, at: string) => {
    if (node.kind === 'file') return syncFile(node);
    syncDirectory(node, at);
    for (const [name, child] of node.entries) arm(child, path.join(at, name));
  };
  arm(top, root);

  const inside = (file: string) => {
    const relative = path.relative(root, file);
    if (options.only !== undefined && relative !== '' && relative.split(path.sep)[0] !== options.only)
      return false;
    return !relative.startsWith('..') && !path.isAbsolute(relative);
  };

  return {
    synced(kind, file) {
      if (crashed || !inside(file)) return;
      const node = nodeAt(file);
      if (node === null) return;
      if (kind === 'file') syncFile(node);
      else syncDirectory(node, file);
    },
    crash() {
      crashed = true;
    },
    get crashed() {
      return crashed;
    },
    async apply() {
      crashed = true;
      for (const name of await readdir(root))
        if (followed(root, name)) await rm(path.join(root, name), { recursive: true, force: true });
      const rebuild = async (node: DirectoryNode, at: string): Promise<void> => {
        for (const [name, child] of node.entries) {
          const place = path.join(at, name);
          if (child.kind === 'file') await writeFile(place, child.data);
          else {
            await mkdir(place);
            await rebuild(child, place);
          }
        }
      };
      await rebuild(top, root);
    },
    release() {
      for (const node of byInode.values()) closeSync(node.fd);
      byInode.clear();
    },
  };
}
