// The project's own tests poll with the public kit's waitFor.

export { waitFor } from "../../testing/wait.js";
