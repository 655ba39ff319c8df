// Knowing whether a message changed an agent's state, without encoding the
// state to find out. `ctx.state` is seen through a proxy that notes every
// write (set, delete, define) to the plain objects and arrays reachable from
// it, and a reassignment of `ctx.state` itself. A read-only message costs the
// same whatever the size of the state; a changed state is encoded once, when
// it is committed.
//
// Only plain objects and arrays are watched: anything else reached from the
// state (a Date, a Uint8Array, an instance of a class) could be changed in
// place unseen, so touching one counts as a possible change, and the commit
// then compares encoded bytes as before.

/** Holds one activation's state and says whether a message may have changed it. */
export interface StateHolder {
  /** The state as `receive` sees it. */
  state: unknown;
  /** The state itself, to encode. */
  readonly raw: unknown;
  /** Whether the state may have changed since the last call. */
  takeChange(): boolean;
}

/**
 * The state of an agent that persists nothing: held as it is, no proxy, since
 * nobody asks whether it changed (it says "maybe" if asked).
 */
export class PlainState implements StateHolder {
  state: unknown;

  get raw(): unknown {
    return this.state;
  }

  takeChange(): boolean {
    return true;
  }
}

/** Tracks writes to one activation's state. */
export class StateTracker implements StateHolder {
  private root: unknown;
  private rootView: unknown;
  private written = false;
  private opaque = false;
  /** The root itself cannot be watched (not a plain object or array): every message may have changed it. */
  private rootOpaque = false;
  private readonly views = new WeakMap<object, object>();
  private readonly handler: ProxyHandler<object>;

  constructor() {
    const mark = (): void => {
      this.written = true;
    };
    this.handler = {
      get: (target, key, receiver) => {
        const value: unknown = Reflect.get(target, key, receiver);
        if (value === null || typeof value !== "object") return value;
        // A proxy must return a frozen property's own value (the invariant of `get`),
        // which then cannot be watched: a possible change.
        const own = Reflect.getOwnPropertyDescriptor(target, key);
        if (own && !own.configurable && !own.writable) {
          this.opaque = true;
          return value;
        }
        return this.view(value);
      },
      set: (target, key, value) => {
        mark();
        return Reflect.set(target, key, value);
      },
      deleteProperty: (target, key) => {
        mark();
        return Reflect.deleteProperty(target, key);
      },
      defineProperty: (target, key, descriptor) => {
        mark();
        return Reflect.defineProperty(target, key, descriptor);
      },
      setPrototypeOf: (target, proto) => {
        mark();
        return Reflect.setPrototypeOf(target, proto);
      },
    };
  }

  /** The state as `receive` sees it: writes through it are noted. */
  get state(): unknown {
    return this.rootView;
  }

  /** Replace the state (`ctx.state = ...`): a change. */
  set state(value: unknown) {
    const touched = this.opaque;
    this.opaque = false;
    this.root = value;
    this.rootView = this.view(value);
    this.rootOpaque = this.opaque;
    this.opaque = touched || this.opaque;
    this.written = true;
  }

  /** The state itself, unwrapped, to encode. */
  get raw(): unknown {
    return this.root;
  }

  /**
   * Whether the state may have changed since the last call (a write, or a
   * touch of something that cannot be watched), and start watching afresh.
   */
  takeChange(): boolean {
    const changed = this.written || this.opaque || this.rootOpaque;
    this.written = false;
    this.opaque = false;
    return changed;
  }

  private view(value: unknown): unknown {
    if (value === null || typeof value !== "object") return value;
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null && proto !== Array.prototype) {
      this.opaque = true;
      return value;
    }
    let view = this.views.get(value);
    if (view === undefined) {
      view = new Proxy(value, this.handler);
      this.views.set(value, view);
    }
    return view;
  }
}
