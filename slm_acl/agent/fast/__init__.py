"""The students' speed-ups, in one place, each behind the selector of selector.py.

- numpy_acting.py: acting on the CPU in NumPy over views of the weights (PPO);
- compiled.py: a reference loss under torch.compile (PPO's gradients, for runs long enough to repay
  compiling);
- passes.py: hand-written forward and backward passes of any body net, without autograd;
- sac.py: SAC's loss gradients written out on those passes;
- ppo.py, sac.py: each fast path's allow-list of the settings it handles.
The reference implementations (the losses a reader reads) are `PPO.loss` and `SAC.loss`; every
fast path is tested equal to them (test/agent/test_fast_parity.py) and `net.fast_path: "off"` turns
them all off.
"""
