"""Patient stories: the events told agree with the run's own counts."""

import numpy as np
import pytest

from therasim_analysis import io, story


def test_every_traced_patients_story_counts_what_the_run_counted(rollout):
    # For each traced patient of replicate 0: the relapses that start in the story are the run's
    # n_relapses, its admissions (voluntary or not) the run's admissions, its DIALOG sessions the
    # run's n_dialog_sessions (/agents/patient/final), and every week's state is the trajectory's.
    final = io.agents(rollout, "patient", "final")
    rows = sorted(set(io.trajectories(rollout)["patient"].astype(int)))
    assert rows
    told = {"relapses": 0, "sessions": 0}
    for r in rows:
        weeks = story.patient_weeks(rollout, r)
        events = [e for es in weeks["events"] for e in es]
        relapses = events.count("relapse starts")
        admissions = events.count("admitted") + events.count("admitted under the Mental Health Act")
        sessions = events.count("DIALOG session")
        assert relapses == final.loc[r, "n_relapses"]
        assert admissions == final.loc[r, "n_admissions_voluntary"] + final.loc[r, "n_admissions_involuntary"]
        assert events.count("admitted under the Mental Health Act") == final.loc[r, "n_admissions_involuntary"]
        assert sessions == final.loc[r, "n_dialog_sessions"]
        assert weeks.index[0] == 0 and "baseline" not in events
        w = 0.25                                          # relationship.perception_weight, the default
        assert np.allclose(weeks["felt"], weeks["star_latent"] + w * (weeks["star_p"] - weeks["star_latent"]))
        told["relapses"] += relapses
        told["sessions"] += sessions
    assert told["relapses"] > 0 and told["sessions"] > 0   # the check saw events


def test_story_lines_side_by_side_and_refusals(rollout, rollout_again, tmp_path):
    rows = sorted(set(io.trajectories(rollout)["patient"].astype(int)))
    lines = story.story_lines(rollout, rows[1], compare=rollout_again, events_only=True)
    assert lines[0].startswith(f"Patient {rows[1]} of ")
    body = [ln for ln in lines if ln[:4].strip().isdigit()]
    assert body[0].split()[0] == "0" and " A " in body[0]
    assert sum(ln.startswith(("A: ", "B: ")) for ln in lines) == 2
    with pytest.raises(story.StoryError, match="not among the"):
        story.patient_weeks(rollout, 10**6)
